import APITypes
import Foundation
import HostServices
import Storage

extension VMManager {
    /// The recorded chain of each hard disk file of `configuration`, by drive index, for its worker
    /// (and for change tracking, backups, checkpoints and moves); pass-through disks have none.
    func diskChains(_ configuration: VMConfiguration) throws -> [Int: [DiskImage]] {
        var chains: [Int: [DiskImage]] = [:]
        for (index, drive) in configuration.drives.enumerated() where drive.kind == .hardDisk && !drive.passThrough {
            guard let path = drive.path else { continue }
            chains[index] = try catalog.recordedChain(path)
        }
        return chains
    }

    /// Records a disk the administrator attaches (one probe when Viridian does not know it; raw
    /// only when declared) and refuses a disk other disks depend on: writing to it would corrupt them.
    func recordAttached(_ path: String, declared: VHDFormat?) async throws {
        let image = try await catalog.identify(path, declared: declared, remember: true)
        try catalog.requireNoDependents(image.path, "attached writable")
    }

    /// Deletes the disks `paths` of a removed VM that Viridian created (its root disk, `vhd new` disks, disks a
    /// move brought) and, with `includingAttached`, the recorded disks that were only attached —
    /// unless another VM uses them or another disk depends on them. Files that are no recorded disk stay.
    func deleteDiskFiles(of vm: ManagedVM, paths: [String], includingAttached: Bool) -> [String] {
        var deleted: [String] = []
        for path in paths {
            guard vmUsing(path: path) == nil else { continue }
            do {
                guard let record = try catalog.record(path) else {
                    events.record(.information, .storage, vm: vm.record.name, "kept \(path): it is not a recorded virtual disk")
                    continue
                }
                let created = record.origin == .created && (record.ownerVMID == nil || record.ownerVMID == vm.record.id)
                guard created || includingAttached else {
                    events.record(.information, .storage, vm: vm.record.name,
                                  "kept \(path): Viridian did not create it (--delete-attached-disks deletes attached disks too)")
                    continue
                }
                let dependents = try catalog.dependents(of: path)
                guard dependents.isEmpty else {
                    events.record(.warning, .storage, vm: vm.record.name,
                                  "kept \(path): it is the parent of \(dependents.joined(separator: ", "))")
                    continue
                }
                try FileManager.default.removeItem(atPath: path)
                try catalog.forget(path)
                deleted.append(path)
            } catch {
                events.record(.warning, .storage, vm: vm.record.name, "could not delete \(path): \(ViridianError.wrapping(error).message)")
            }
        }
        return deleted
    }

    /// Records the disks of VMs stored before Viridian recorded disks, as their workers were given them.
    func adoptLegacyDisks() async {
        for vm in vms.values {
            for drive in vm.record.configuration.drives where drive.kind == .hardDisk {
                guard let path = drive.path else { continue }
                do {
                    try await catalog.adoptLegacy(path)
                } catch {
                    events.record(.warning, .storage, vm: vm.record.name,
                                  "cannot record the disk \(path): \(ViridianError.wrapping(error).message)")
                }
            }
        }
    }
}
