import APITypes
import Checkpoints
import Foundation
import HostServices
import Inventory
import QMP

/// The VM host's side of checkpoints (`CheckpointHost`): each checkpoint operation holds the VM's
/// turn, and its changes of drives and state are stored and taken over in one actor step.
extension VMManager: CheckpointHost {
    package func checkCheckpointable(_ name: String, busyAllowed: Bool) throws -> VMRecord {
        let vm = try lookup(name)
        if !busyAllowed { try requireIdle(vm) }
        return vm.record
    }

    package func beginCheckpointOperation(_ name: String, _ kind: VMOperation.Kind, jobID: String?) throws -> CheckpointSubject {
        let vm = try lookup(name)
        try vm.record.configuration.requireNoPassThrough(vm: vm.record.name, VMOperation(kind).description)
        try beginOperation(kind, vm, jobID: jobID)
        return subject(vm)
    }

    package func checkpointSubjects() -> [CheckpointSubject] {
        vms.values.map(subject)
    }

    private func subject(_ vm: ManagedVM) -> CheckpointSubject {
        CheckpointSubject(record: vm.record, paths: paths(vm), client: vm.worker?.client,
                          hub: vm.record.state == .running ? vm.worker?.hub : nil)
    }

    package func endCheckpointOperation(_ id: String) {
        endOperation(id)
    }

    package func commit(_ change: CheckpointChange, state: VMState?) throws {
        guard var vm = vms[change.vm.id] else {
            throw ViridianError(.notFound, "VM '\(change.vm.name)' is gone")
        }
        var stored = change
        stored.vm = vm.record
        stored.vm.configuration = change.vm.configuration
        if let state {
            stored.vm.state = state
            if !state.hasWorker { stored.vm.startedAt = nil }
        }
        try inventory.apply(stored)
        vm.record = stored.vm
        vms[vm.record.id] = vm
    }

    package func turnOffForCheckpoint(_ id: String, progress: JobProgress) async throws {
        guard let client = vms[id]?.worker?.client else { return }
        _ = try await turnOff(id: id, client: client, progress: progress, reason: "turned off to apply a checkpoint")
    }

    package func saveMemory(client: QMPClient, to file: String, keyFile: String?, progress: JobProgress) async throws {
        try await Self.writeState(client: client, to: file, qemuVersion: launcher.qemu.version, keyFile: keyFile, progress: progress)
    }

    /// Refuses what would lose or split a VM's checkpoints: a move or storage move (which do not
    /// carry the tree yet), detaching a disk, removing the VM without its disks.
    func requireNoCheckpoints(_ vm: ManagedVM, _ action: String) throws {
        let count = try inventory.checkpoints(vmID: vm.record.id).count
        guard count == 0 else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has \(count) checkpoint\(count == 1 ? "" : "s"), and \(action) "
                                + "would lose them; remove them first (see: viridian vm checkpoint list \(vm.record.name))")
        }
    }

    /// The disks under a VM's checkpoints: each checkpoint overlay's chain followed down to the first
    /// image outside the checkpoint folder. Forgets the overlays' records (their files go with the
    /// VM's folder) and returns those images, for `vm remove --delete-disks`.
    func forgetCheckpointOverlays(of vm: ManagedVM) throws -> [String] {
        let folder = paths(vm).checkpointDirectory + "/"
        var bases: Set<String> = []
        for overlay in try inventory.disks(inFolder: folder) {
            var parent = overlay.parentPath
            while let path = parent, path.hasPrefix(folder) { parent = try catalog.recorded(path)?.parentPath }
            if let parent { bases.insert(parent) }
        }
        for overlay in try inventory.disks(inFolder: folder).reversed() { try catalog.forget(overlay.path) }
        return bases.sorted()
    }
}
