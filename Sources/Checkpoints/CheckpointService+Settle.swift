import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import QMP

extension CheckpointService {
    /// After a restart, before anything else touches the VMs: finishes what a checkpoint operation
    /// left when viridiand stopped. Each step of an operation is stored before or after its QEMU
    /// step so that what is stored always reads right; this puts a running worker back in step with it.
    package func settleInterrupted() async {
        for subject in await host.checkpointSubjects() {
            do {
                try await settle(subject)
            } catch {
                events.record(.error, .checkpoint, vm: subject.record.name,
                              "VM '\(subject.record.name)': its checkpoints could not be checked after the restart: \(ViridianError.wrapping(error).message)")
            }
        }
    }

    private func settle(_ subject: CheckpointSubject) async throws {
        let vm = subject.record
        var change = CheckpointChange(vm: vm, current: try inventory.currentCheckpoint(vmID: vm.id))
        for var record in try inventory.checkpoints(vmID: vm.id) {
            guard let memory = record.memoryFile, !FileManager.default.fileExists(atPath: memory) else { continue }
            record.kind = .production
            record.memoryFile = nil
            change.saved.append(record)
            events.record(.warning, .checkpoint, vm: vm.name, "VM '\(vm.name)': the memory of checkpoint '\(record.name)' was never "
                          + "written (viridiand stopped while taking it); it keeps the disks only")
        }
        if !change.saved.isEmpty { try await host.commit(change, state: nil) }
        guard let client = subject.client else { return }
        for (index, drive) in vm.configuration.drives.enumerated() where drive.kind == .hardDisk {
            guard let path = drive.path else { continue }
            let root = try await client.rootNode(ofDevice: "disk\(index)")
            let merge = LiveMerge(client: client)
            if try await client.formatNode(openingFile: path) == root { continue }
            if try await client.queryBlockJobs().contains(where: { $0.id == LiveMerge.jobID(driveIndex: index) && $0.ready }) {
                // A merge into the stored image was in step when viridiand stopped; the inventory names that image already.
                let merged = try await client.fileName(ofNode: root)
                try await merge.finishPivot(LiveMerge.jobID(driveIndex: index))
                if let merged, merged.hasPrefix(subject.folder + "/"), try catalog.recorded(merged) == nil {
                    try await merge.release(merged, node: root)
                    deleteFile(merged, of: vm)
                }
                events.record(.information, .checkpoint, vm: vm.name, "VM '\(vm.name)': finished merging disk \(index) into \(path) after the restart")
            } else if let overlay = try catalog.recorded(path), path.hasPrefix(subject.folder + "/"), let parent = overlay.parentPath,
                      try await client.formatNode(openingFile: parent) == root {
                // The overlay of a checkpoint was stored but not yet put over the disk.
                try await client.snapshotDisks([QMPClient.Overlay(node: root, overlayNode: "st\(UUID().uuidString.prefix(8).lowercased())d\(index)",
                                                                  file: path, encryptionSecret: vm.configuration.shielded ? ShieldingKey.secretID : nil)])
                events.record(.warning, .checkpoint, vm: vm.name, "VM '\(vm.name)': viridiand stopped while taking a checkpoint; "
                              + "disk \(index) was switched onto its overlay at the restart, so that checkpoint holds the disk as it was then")
            } else {
                events.record(.error, .checkpoint, vm: vm.name, "VM '\(vm.name)': disk \(index) does not run on \(path), "
                              + "which the inventory names; stop the VM before changing its checkpoints")
            }
        }
    }
}
