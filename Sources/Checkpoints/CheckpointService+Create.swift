import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import QMP
import Storage

extension CheckpointService {
    /// Takes a checkpoint of a Running, Paused, Saved or Off VM (Checkpoint-VM), as a job.
    package func create(_ name: String, _ request: NewCheckpointRequest) async throws -> JobInfo {
        let vm = try await host.checkCheckpointable(name, busyAllowed: false)
        try vm.configuration.requireNoPassThrough(vm: vm.name, "a checkpoint")
        guard vm.configuration.checkpointType != .disabled else {
            throw ViridianError(.invalidState, "checkpoints are disabled for VM '\(vm.name)' "
                                + "(turn them on with: viridian vm set \(vm.name) --checkpoint-type production)")
        }
        guard [.running, .paused, .saved, .off].contains(vm.state) else {
            throw ViridianError(.invalidState, "VM '\(vm.name)' is \(vm.state.rawValue); a checkpoint is taken of a Running, Paused, Saved or Off VM")
        }
        let checkpointName = request.name ?? Self.defaultName(for: vm.name)
        try NameRule.validate(checkpointName, what: "checkpoint name", spaces: true)
        if try inventory.checkpoints(vmID: vm.id).contains(where: { $0.name.lowercased() == checkpointName.lowercased() }) {
            throw ViridianError(.alreadyExists, "VM '\(vm.name)' has a checkpoint named '\(checkpointName)' already")
        }
        for drive in vm.configuration.drives where drive.kind == .hardDisk {
            guard let path = drive.path, try catalog.recorded(path) != nil else {
                throw ViridianError(.invalidState, "the disk \(drive.path ?? "(empty)") of VM '\(vm.name)' is not a recorded virtual disk; "
                                    + "a checkpoint needs every hard disk to be one (viridian vm disk add)")
            }
        }
        return operationJob(vm.name, .checkpointing, jobKind: "vm.checkpoint", description: "Taking checkpoint '\(checkpointName)' of \(vm.name)",
                            failure: "checkpoint '\(checkpointName)'") { subject, progress in
            try await take(checkpointName, of: subject, progress: progress)
        }
    }

    /// Hyper-V names a checkpoint after its VM and the moment; the name rule has no room for `/` or `:`.
    static func defaultName(for vm: String) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "yyyy-MM-dd HH.mm.ss"
        return "\(vm) - \(format.string(from: Date()))"
    }

    private func take(_ checkpointName: String, of subject: CheckpointSubject, progress: JobProgress) async throws -> String {
        let vm = subject.record
        let id = UUID().uuidString.lowercased()
        var kind: CheckpointKind = vm.state == .saved || vm.configuration.checkpointType == .standard ? .standard : .production
        if vm.state == .off { kind = .production }
        // The overlays are made before the guest freezes: the freeze window holds only the switch.
        try FileManager.default.createDirectory(atPath: subject.folder, withIntermediateDirectories: true)
        progress.report(10, "making the overlays")
        let overlays = try await makeOverlays(for: vm.configuration, named: String(id.prefix(8)), in: subject.folder, owner: vm.id,
                                              tool: diskTool(vm))
        let discardOverlays = { for overlay in overlays.values { try? FileManager.default.removeItem(atPath: overlay.path) } }
        var frozen = false
        var stored = false
        let frozenAt = ContinuousClock.now
        var fallback: String?
        if kind == .production, vm.state != .off {
            do {
                try await freeze(subject)
                frozen = true
            } catch {
                let reason = ViridianError.wrapping(error).message
                guard vm.configuration.checkpointType != .productionOnly else {
                    discardOverlays()
                    throw ViridianError(.invalidState, "a production checkpoint of VM '\(vm.name)' needs its guest to freeze its file systems: \(reason)")
                }
                kind = .standard
                fallback = reason
            }
        }
        if kind == .standard, vm.state != .saved, let format = try formatBlockingMemorySave(vm.configuration) {
            if frozen { await thaw(subject) }
            discardOverlays()
            throw ViridianError(.invalidState, "a standard checkpoint of VM '\(vm.name)' needs its memory saved, which QEMU refuses while "
                                + "the VM has \(format) disks" + (fallback.map { ", and a production one is not possible: \($0)" } ?? "")
                                + "; convert the disks to qcow2 (viridian vhd convert), or take the checkpoint while the VM is Off")
        }
        do {
            let previous = try inventory.currentCheckpoint(vmID: vm.id)
            let memoryFile = kind == .standard ? "\(subject.folder)/\(id.prefix(8)).state" : nil
            let nvramFile = FileManager.default.fileExists(atPath: subject.paths.nvram) ? "\(subject.folder)/\(id.prefix(8)).nvram" : nil
            if let nvramFile { try FileManager.default.copyItem(atPath: subject.paths.nvram, toPath: nvramFile) }
            let tpmStateFile = FileManager.default.fileExists(atPath: subject.paths.tpmState) ? "\(subject.folder)/\(id.prefix(8)).tpm" : nil
            if let tpmStateFile { try FileManager.default.copyItem(atPath: subject.paths.tpmState, toPath: tpmStateFile) }
            var moved = vm
            for (index, overlay) in overlays { moved.configuration.drives[index].path = overlay.path }
            var change = CheckpointChange(vm: moved, current: id)
            change.saved = [CheckpointRecord(id: id, vmID: vm.id, name: checkpointName, parentID: previous, kind: kind, vmState: vm.state,
                                             configuration: vm.configuration, memoryFile: memoryFile, nvramFile: nvramFile,
                                             tpmStateFile: tpmStateFile)]
            change.recordedDisks = overlays.values.sorted { $0.path < $1.path }
            try await host.commit(change, state: nil)
            stored = true
            if subject.client != nil { Failpoints.crash(at: "checkpoint-exit-after-store") }
            do {
                try await capture(subject, overlays: overlays, memoryFile: memoryFile, prefix: "cp\(id.prefix(8))", progress: progress)
            } catch {
                var undo = CheckpointChange(vm: vm, current: previous)
                undo.deleted = [id]
                undo.forgottenDisks = overlays.values.map(\.path)
                try await host.commit(undo, state: nil)
                stored = false
                for file in [nvramFile, tpmStateFile].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: file) }
                throw error
            }
        } catch {
            if frozen { await thaw(subject) }
            // Overlays the inventory still names (the undo could not be stored) stay for the VM to run on.
            if !stored { discardOverlays() }
            throw error
        }
        var window = ""
        if frozen {
            await thaw(subject)
            window = " (the guest's file systems were frozen for \(Int((ContinuousClock.now - frozenAt) / .milliseconds(1))) ms)"
        }
        if let fallback {
            events.record(.warning, .checkpoint, vm: vm.name, "VM '\(vm.name)': a production checkpoint was not possible (\(fallback)); "
                          + "checkpoint '\(checkpointName)' is a standard one")
        }
        events.record(.information, .checkpoint, vm: vm.name, "VM '\(vm.name)': \(kind.rawValue.lowercased()) checkpoint '\(checkpointName)' taken")
        return "\(kind.rawValue) checkpoint '\(checkpointName)' taken\(window)" + (fallback.map { " (production was not possible: \($0))" } ?? "")
    }

    /// The format among the VM's disk chains that QEMU cannot migrate, so cannot save (VHDX and VHD register
    /// a migration blocker), if any.
    private func formatBlockingMemorySave(_ configuration: VMConfiguration) throws -> String? {
        for drive in configuration.drives where drive.kind == .hardDisk {
            guard let path = drive.path else { continue }
            if let image = try catalog.recordedChain(path).first(where: { $0.format == .vhdx || $0.format == .vhd }) {
                return image.format.rawValue.uppercased()
            }
        }
        return nil
    }

    /// A qcow2 overlay for each hard disk, over the image it is on now, recorded as made for the VM.
    func makeOverlays(for configuration: VMConfiguration, named prefix: String, in folder: String,
                      owner vmID: String, tool: DiskImageTool) async throws -> [Int: DiskRecord] {
        var made: [Int: DiskRecord] = [:]
        do {
            for (index, drive) in configuration.drives.enumerated() where drive.kind == .hardDisk {
                guard let path = drive.path, let image = try catalog.recorded(path) else {
                    throw ViridianError(.invalidState, "the disk \(drive.path ?? "(empty)") is not a recorded virtual disk")
                }
                let size = try await tool.info(image).sizeBytes
                let overlay = "\(folder)/\(prefix)-disk\(index).qcow2"
                try await tool.createOverlay(path: overlay, parent: image, sizeBytes: Int64(size))
                made[index] = DiskRecord(path: overlay, format: .qcow2, parentPath: path, origin: .created, ownerVMID: vmID)
            }
        } catch {
            for overlay in made.values { try? FileManager.default.removeItem(atPath: overlay.path) }
            throw error
        }
        return made
    }

    /// Switches a running or paused VM onto its overlays (with its memory for a standard checkpoint);
    /// links a Saved VM's memory. An Off VM has nothing more to do.
    private func capture(_ subject: CheckpointSubject, overlays: [Int: DiskRecord], memoryFile: String?, prefix: String,
                         progress: JobProgress) async throws {
        guard let client = subject.client, [.running, .paused].contains(subject.record.state) else {
            if subject.record.state == .saved, let memoryFile {
                guard link(subject.paths.savedState, memoryFile) == 0 else {
                    throw ViridianError(.internalError, "cannot keep the saved state as \(memoryFile): \(String(cString: strerror(errno)))")
                }
            }
            return
        }
        var parts: [QMPClient.Overlay] = []
        for (index, overlay) in overlays.sorted(by: { $0.key < $1.key }) {
            parts.append(QMPClient.Overlay(node: try await client.rootNode(ofDevice: "disk\(index)"), overlayNode: "\(prefix)d\(index)",
                                           file: overlay.path, encryptionSecret: subject.record.configuration.shielded ? ShieldingKey.secretID : nil))
        }
        guard let memoryFile else {
            progress.report(50, "switching the disks onto the overlays while the file systems are frozen")
            try await client.snapshotDisks(parts)
            return
        }
        let wasRunning = subject.record.state == .running
        if wasRunning { try await client.stop() }
        do {
            progress.report(30, "switching the disks onto the overlays")
            try await client.snapshotDisks(parts)
            do {
                try await DiskPath.writeAtomically(to: memoryFile) { partial in
                    try await host.saveMemory(client: client, to: partial, keyFile: keyFile(subject.record), progress: progress)
                }
            } catch {
                for (index, overlay) in overlays {
                    guard let parent = overlay.parentPath else { continue }
                    try await LiveMerge(client: client).merge(overlay.path, into: parent, driveIndex: index, record: {}) { _, _ in }
                }
                throw error
            }
        } catch {
            if wasRunning {
                do {
                    try await client.cont()
                } catch {
                    events.record(.warning, .checkpoint, vm: subject.record.name, "VM '\(subject.record.name)' stays Paused after the failed "
                                  + "checkpoint: \(ViridianError.wrapping(error).message) (resume it with: viridian vm resume \(subject.record.name))")
                }
            }
            throw error
        }
        if wasRunning { try await client.cont() }
    }

    private func freeze(_ subject: CheckpointSubject) async throws {
        guard subject.record.state == .running, let hub = subject.hub else {
            throw ViridianError(.invalidState, "the VM is \(subject.record.state.rawValue), so its guest cannot freeze")
        }
        _ = try await hub.freeze(timeoutSeconds: 30)
    }

    private func thaw(_ subject: CheckpointSubject) async {
        do {
            _ = try await subject.hub?.thaw()
        } catch {
            events.record(.warning, .checkpoint, vm: subject.record.name,
                          "VM '\(subject.record.name)': thawing the guest's file systems failed (\(ViridianError.wrapping(error).message)); it thaws them itself after 30 s")
        }
    }
}
