import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import Storage

extension CheckpointService {
    /// Returns the VM to a checkpoint (Restore-VMCheckpoint), as a job: a running VM is turned off
    /// first (its current state is discarded); the VM gets the checkpoint's configuration on new
    /// overlays over the checkpoint's images, and is Saved at that moment (standard) or Off (production).
    package func apply(_ name: String, checkpoint: String) async throws -> JobInfo {
        let vm = try await host.checkCheckpointable(name, busyAllowed: false)
        let target = try find(checkpoint, of: vm)
        return operationJob(vm.name, .applyingCheckpoint, jobKind: "vm.checkpoint-apply", description: "Applying checkpoint '\(target.name)' to \(vm.name)",
                            failure: "applying checkpoint '\(target.name)'") { subject, progress in
            try await restore(target, to: subject, progress: progress)
        }
    }

    private func restore(_ checkpoint: CheckpointRecord, to subject: CheckpointSubject, progress: JobProgress) async throws -> String {
        var vm = subject.record
        if subject.client != nil {
            progress.report(5, "turning the VM off (its current state is discarded)")
            try await host.turnOffForCheckpoint(vm.id, progress: progress)
        }
        progress.report(20, "making new overlays over the checkpoint's disks")
        let overlays = try await makeOverlays(for: checkpoint.configuration, named: String(UUID().uuidString.lowercased().prefix(8)),
                                              in: subject.folder, owner: vm.id, tool: diskTool(vm))
        var configuration = checkpoint.configuration
        configuration.automaticActions = vm.configuration.automaticActions
        configuration.checkpointType = vm.configuration.checkpointType
        for (index, overlay) in overlays { configuration.drives[index].path = overlay.path }
        let savedState = subject.paths.savedState
        do {
            if FileManager.default.fileExists(atPath: savedState) { try FileManager.default.removeItem(atPath: savedState) }
            if let memory = checkpoint.memoryFile, link(memory, savedState) != 0 {
                throw ViridianError(.internalError, "cannot restore the memory state \(memory): \(String(cString: strerror(errno)))")
            }
            if let nvram = checkpoint.nvramFile { try DiskPath.replaceAtomically(subject.paths.nvram, copying: nvram) }
            if let tpmState = checkpoint.tpmStateFile { try SoftwareTPM.installState(copying: tpmState, subject.paths) }
            vm.configuration = configuration
            var change = CheckpointChange(vm: vm, current: checkpoint.id)
            change.recordedDisks = overlays.values.sorted { $0.path < $1.path }
            try await host.commit(change, state: checkpoint.memoryFile == nil ? .off : .saved)
            await host.discardChangeTracking(vm.id, reason: "checkpoint '\(checkpoint.name)' was applied")
        } catch {
            for overlay in overlays.values { try? FileManager.default.removeItem(atPath: overlay.path) }
            throw error
        }
        progress.report(70, "removing what no checkpoint needs")
        try await collapse(vm, folder: subject.folder, client: nil, progress: progress)
        let state = checkpoint.memoryFile == nil ? "Off" : "Saved (start it to resume at that moment)"
        events.record(.information, .checkpoint, vm: vm.name, "VM '\(vm.name)' was returned to checkpoint '\(checkpoint.name)'")
        return "VM '\(vm.name)' is at checkpoint '\(checkpoint.name)'; it is \(state)"
    }
}
