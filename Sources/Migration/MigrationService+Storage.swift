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
        do {
            var targets: [Int: String] = [:]
            for (index, drive) in record.configuration.drives.enumerated() where drive.kind == .hardDisk {
                guard let path = drive.path else { continue }
                let target = "\(directory)/\(URL(fileURLWithPath: path).lastPathComponent)"
                guard target != path else { continue }
                guard !FileManager.default.fileExists(atPath: target) else {
                    throw ViridianError(.alreadyExists, "\(target) exists already; remove it or choose another folder")
                }
                targets[index] = target
            }
            guard !targets.isEmpty else {
                await vms.endStorageMove(record.id, newPaths: nil)
                return "the disks are in \(directory) already"
            }
            if let client {
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
            } else {
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
            let summary = "moved \(targets.count) disk\(targets.count == 1 ? "" : "s") to \(directory)\(client == nil ? "" : " while the VM ran")"
            events.record(.information, .storage, vm: name, "VM '\(name)': \(summary)")
            return summary
        } catch {
            await uncancelled { [vms, mirrors, created] in
                await mirrors?.abandon()
                for file in created { try? FileManager.default.removeItem(atPath: file) }
                await vms.endStorageMove(record.id, newPaths: nil)
            }
            events.record(.error, .storage, vm: name,
                          "moving the storage of VM '\(name)' failed (\(ViridianError.wrapping(error).message)); it keeps its disks")
            throw error
        }
    }
}
