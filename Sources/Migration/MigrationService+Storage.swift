import APITypes
import Foundation
import HostServices
import QMP

extension MigrationService {
    /// Starts moving a VM's hard disks into `destinationPath` on this host (`viridian vm move-storage`).
    /// A running VM keeps running: its disks are mirrored, then it switches onto the copies at once.
    package func moveStorage(_ name: String, _ request: MoveStorageRequest) async throws -> JobInfo {
        let directory = request.destinationPath
        guard directory.hasPrefix("/") else {
            throw ViridianError(.invalidArgument, "--destination-path must be absolute: '\(directory)'")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ViridianError(.notFound, "the destination path \(directory) does not exist or is not a folder")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw ViridianError(.invalidArgument, "viridiand cannot write to \(directory)")
        }
        let vm = try await vms.checkStorageMovable(name)
        return jobs.start(kind: "vm.move-storage", vm: vm.name, description: "Moving the storage of \(vm.name) to \(directory)",
                          queued: true) { progress in
            try await self.slots.withSlot(.storage) {
                progress.started()
                return try await self.performStorageMove(vm.name, to: directory, progress: progress)
            }
        }
    }

    private func performStorageMove(_ name: String, to directory: String, progress: JobProgress) async throws -> String {
        let (record, client) = try await vms.beginStorageMove(name, jobID: progress.jobID)
        var created: [String] = []
        var mirrors: DiskMirrors?
        var treeMoved = 0
        do {
            let checkpointFolder = await vms.checkpointFolder(ofVM: record.id)
            var targets: [Int: String] = [:]
            var tree: [CheckpointTreeMove.Disk] = []
            for (index, drive) in record.configuration.drives.enumerated() where drive.kind == .hardDisk {
                guard let path = drive.path else { continue }
                let target: String
                if let planned = try CheckpointTreeMove.plan(index: index, path: path, checkpointFolder: checkpointFolder, directory: directory,
                                                             catalog: catalog) {
                    guard planned.target != planned.base.path else { continue }
                    tree.append(planned)
                    target = planned.target
                } else {
                    target = "\(directory)/\(URL(fileURLWithPath: path).lastPathComponent)"
                    guard target != path else { continue }
                    if let dependent = try catalog.dependents(of: path).first {
                        throw ViridianError(.invalidState, "\(dependent) is a differencing disk of \(path); moving \(path) would break it")
                    }
                    targets[index] = target
                }
                guard !FileManager.default.fileExists(atPath: target) else {
                    throw ViridianError(.alreadyExists, "\(target) exists already; remove it or choose another folder")
                }
            }
            guard !targets.isEmpty || !tree.isEmpty else {
                await vms.endStorageMove(record.id, newPaths: nil)
                return "the disks are in \(directory) already"
            }
            // Disks under checkpoints first, one at a time, each recorded once it moved.
            let mover = CheckpointTreeMove(catalog: catalog, client: client)
            let total = tree.count + targets.count
            for (number, disk) in tree.enumerated() {
                created.append(disk.target)
                try await mover.copy(disk) { percent in
                    progress.report((number * 100 + percent) * 90 / (100 * total), "copying \(disk.base.path) (under the VM's checkpoints)")
                }
                try await mover.repoint(disk)
                do {
                    try await vms.recordTreeMoved(record.id, from: disk.base.path, to: disk.moved, dependents: disk.dependents.map(\.path))
                } catch {
                    try await mover.restore(disk, after: error)
                    throw error
                }
                created.removeAll { $0 == disk.target }
                treeMoved += 1
                do {
                    try await mover.release(disk)
                    try FileManager.default.removeItem(atPath: disk.base.path)
                } catch {
                    events.record(.warning, .storage, vm: name, "VM '\(name)': \(disk.base.path) moved to \(disk.target), but letting go of "
                                  + "the old file failed (\(ViridianError.wrapping(error).message)); delete it once the VM is Off")
                }
            }
            if !targets.isEmpty, let client {
                var definitions: [Int: [String: JSONValue]] = [:]
                for (index, target) in targets {
                    guard let source = record.configuration.drives[index].path else { continue }
                    let chain = try catalog.recordedChain(source)
                    let info = try await catalog.tool.info(chain[0])
                    try await catalog.tool.create(path: target, format: info.format, type: .dynamic, sizeBytes: info.sizeBytes)
                    created.append(target)
                    definitions[index] = ["driver": .string(info.format.qemuName),
                                          "file": .object(["driver": .string("file"), "filename": .string(target)])]
                }
                let prefix = "s" + UUID().uuidString.prefix(6).lowercased()
                let started = try await DiskMirrors.start(client: client, targets: definitions, prefix: prefix)
                mirrors = started
                try await started.waitUntilReady { copied, total in
                    progress.report(total > 0 ? Int(copied * 90 / total) : 0,
                                    "\(ByteSize.format(UInt64(copied))) of \(ByteSize.format(UInt64(total))) copied; the VM keeps running")
                }
                progress.report(95, "switching the VM onto the new disks")
                try await started.pivot()
            } else if !targets.isEmpty {
                let count = targets.count
                for (number, (index, target)) in targets.sorted(by: { $0.key < $1.key }).enumerated() {
                    guard let source = record.configuration.drives[index].path else { continue }
                    let chain = try catalog.recordedChain(source)
                    created.append(target)
                    try await catalog.tool.convert(chain: chain, destinationPath: target, format: chain[0].format, type: .dynamic) { percent in
                        progress.report((number * 100 + percent) * 95 / (100 * count), "copying \(source)")
                    }
                }
            }
            let old = targets.keys.compactMap { record.configuration.drives[$0].path }
            for (index, target) in targets {
                guard let source = record.configuration.drives[index].path, let format = try catalog.recorded(source)?.format else { continue }
                try catalog.recordCreated(DiskImage(path: target, format: format), owner: record.id)
            }
            await vms.endStorageMove(record.id, newPaths: targets)
            for file in old {
                try? FileManager.default.removeItem(atPath: file)
                try catalog.forget(file)
            }
            let count = targets.count + tree.count
            let summary = "moved \(count) disk\(count == 1 ? "" : "s") to \(directory)\(client == nil ? "" : " while the VM ran")"
            events.record(.information, .storage, vm: name, "VM '\(name)': \(summary)")
            return summary
        } catch {
            await uncancelled { [vms, mirrors, created] in
                await mirrors?.abandon()
                for file in created { try? FileManager.default.removeItem(atPath: file) }
                await vms.endStorageMove(record.id, newPaths: nil)
            }
            guard treeMoved == 0 else {
                let message = "moving the storage of VM '\(name)' stopped after \(treeMoved) disk\(treeMoved == 1 ? "" : "s") under its checkpoints "
                    + "moved (\(ViridianError.wrapping(error).message)); the others keep their place: run the move again to finish it"
                events.record(.error, .storage, vm: name, message)
                throw ViridianError(ViridianError.wrapping(error).code, message)
            }
            events.record(.error, .storage, vm: name,
                          "moving the storage of VM '\(name)' failed (\(ViridianError.wrapping(error).message)); it keeps its disks")
            throw error
        }
    }
}
