import APITypes
import Engine
import Foundation
import HostServices
import Storage

extension BackupService {
    /// Restores a point of a VM's chain, as a job: as a new VM named `request.as` (its disks written
    /// in their original formats into a folder of their own, then imported), or over the Off VM it
    /// was taken of (its disks rewritten in place, flat; the configuration stays).
    package func restore(_ request: RestoreBackupRequest) throws -> JobInfo {
        let repository = try BackupRepository(path: request.path, create: false)
        let chain = try requireChain(repository, vm: request.vm)
        let point = try findPoint(request.point, in: chain, repository: repository)
        if let newName = request.as { try VMName.validate(newName) }
        let target = request.as ?? chain.vmName
        return job(kind: "backup.restore", vm: target, description: "Restoring \(chain.vmName) at \(point.name) as \(target)",
                   failure: "restoring point \(point.name) of VM '\(chain.vmName)'") { progress in
            try await repository.withChainLock(vm: chain.vmName) {
                guard var current = try repository.chain(ofVM: chain.vmName) else { throw ViridianError(.notFound, "the chain of \(chain.vmName) is gone") }
                try await finishInterruptedFold(&current, repository: repository)
                guard let point = current.restorable.first(where: { $0.name == point.name }) ?? current.points.first(where: { $0.name == point.name }) else {
                    throw ViridianError(.notFound, "point \(point.name) is gone from the chain of \(chain.vmName)")
                }
                if let newName = request.as {
                    return try await restoreAsNew(point, of: current, as: newName, repository: repository, progress: progress)
                }
                return try await restoreOver(point, of: current, repository: repository, progress: progress)
            }
        }
    }

    private func findPoint(_ name: String?, in chain: BackupChain, repository: BackupRepository) throws -> BackupPoint {
        guard let name else { return chain.restorable[chain.restorable.count - 1] }
        guard let point = chain.restorable.first(where: { $0.name == name }) else {
            throw ViridianError(.notFound, "VM '\(chain.vmName)' has no backup point '\(Quote.prefix(name))' in \(repository.root) "
                                + "(see: viridian backup list \(repository.root))")
        }
        return point
    }

    private func restoreAsNew(_ point: BackupPoint, of chain: BackupChain, as name: String, repository: BackupRepository,
                              progress: JobProgress) async throws -> String {
        guard await !host.hasVM(named: name) else {
            throw ViridianError(.alreadyExists, "a VM named '\(name)' already exists; restore with another --as, or over it (without --as) when it is the original")
        }
        let folder = "\(restoreDirectory)/\(name)-\(point.name)"
        guard !FileManager.default.fileExists(atPath: folder) else { throw ViridianError(.alreadyExists, "\(folder) exists already") }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            var configuration = point.configuration
            var formats: [String: VHDFormat] = [:]
            for (number, disk) in point.disks.enumerated() {
                let file = "disk\(disk.index).\(disk.format == .raw ? "img" : disk.format.rawValue)"
                try await write(disk, of: point, in: chain, repository: repository, to: "\(folder)/\(file)") { percent in
                    progress.report((number * 100 + percent) * 90 / (100 * max(point.disks.count, 1)), "writing \(file)")
                }
                configuration.drives[disk.index].path = file
                formats[file] = disk.format
            }
            if let nvram = point.nvram {
                try FileManager.default.copyItem(atPath: "\(repository.folder(ofVM: chain.vmName))/\(point.name)/\(nvram)", toPath: "\(folder)/nvram.fd")
            }
            if let tpmState = point.tpmState {
                try FileManager.default.copyItem(atPath: "\(repository.folder(ofVM: chain.vmName))/\(point.name)/\(tpmState)",
                                                 toPath: "\(folder)/\(ExportedVM.tpmStateFile)")
            }
            let exported = ExportedVM(name: name, notes: point.notes, configuration: configuration, diskFormats: formats, savedState: nil,
                                      nvram: point.nvram == nil ? nil : "nvram.fd", tpmState: point.tpmState == nil ? nil : ExportedVM.tpmStateFile,
                                      checkpoint: "backup \(point.name)")
            try WireJSON.encoder().encode(exported).write(to: URL(fileURLWithPath: "\(folder)/\(ExportedVM.fileName)"))
            progress.report(95, "registering \(name)")
            _ = try await host.importRestored(folder: folder, name: name)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        let summary = "VM '\(chain.vmName)' at backup point \(point.name) restored as the new VM '\(name)' (its disks are in \(folder))"
        events.record(.information, .backup, vm: name, summary)
        return summary
    }

    private func restoreOver(_ point: BackupPoint, of chain: BackupChain, repository: BackupRepository, progress: JobProgress) async throws -> String {
        let subject = try await host.beginBackupOperation(chain.vmName, .restoringBackup, jobID: progress.jobID)
        do {
            let vm = subject.record
            guard vm.id == chain.vmID else {
                throw ViridianError(.conflict, "VM '\(vm.name)' is not the VM these backups were taken of (id \(chain.vmID)); restore with --as NEW")
            }
            guard vm.state == .off else {
                throw ViridianError(.invalidState, "VM '\(vm.name)' is \(vm.state.rawValue); a restore over it needs it Off (or restore with --as NEW)")
            }
            for disk in point.disks {
                guard let image = subject.chains[disk.index]?.first, image.path == disk.path, image.format == disk.format else {
                    throw ViridianError(.conflict, "disk \(disk.index) of VM '\(vm.name)' is not the \(disk.format.rawValue.uppercased()) \(disk.path) "
                                        + "it was at point \(point.name) (it has checkpoints, or was replaced); restore with --as NEW")
                }
            }
            for (number, disk) in point.disks.enumerated() {
                let partial = "\(disk.path).restoring"
                try? FileManager.default.removeItem(atPath: partial)
                try await write(disk, of: point, in: chain, repository: repository, to: partial) { percent in
                    progress.report((number * 100 + percent) * 95 / (100 * max(point.disks.count, 1)), "writing \(disk.path)")
                }
                guard rename(partial, disk.path) == 0 else {
                    throw ViridianError(.internalError, "cannot move the restored disk over \(disk.path): \(String(cString: strerror(errno)))")
                }
                // The restored file is flat, whatever parent the disk had (a VM made from an image).
                if subject.chains[disk.index]?.count ?? 1 > 1 { try catalog.recordFlattened(disk.path) }
            }
            let pointFolder = "\(repository.folder(ofVM: chain.vmName))/\(point.name)"
            if let nvram = point.nvram { try DiskPath.replaceAtomically(subject.paths.nvram, copying: "\(pointFolder)/\(nvram)") }
            if let tpmState = point.tpmState { try SoftwareTPM.installState(copying: "\(pointFolder)/\(tpmState)", subject.paths) }
            ChangeTracking(folder: subject.paths.changeTrackingDirectory, tool: catalog.tool, logger: logger)
                .invalidate("the VM's disks were restored from backup point \(point.name)")
            await host.endBackupOperation(vm.id)
        } catch {
            await host.endBackupOperation(subject.record.id)
            throw error
        }
        let summary = "VM '\(chain.vmName)' restored to backup point \(point.name) (its disks were rewritten; it is Off)"
        events.record(.information, .backup, vm: chain.vmName, summary)
        return summary
    }

    /// Writes a disk as it was at `point` into the new file `destination`, in the disk's own format.
    private func write(_ disk: BackupDisk, of point: BackupPoint, in chain: BackupChain, repository: BackupRepository, to destination: String,
                       progress: @escaping @Sendable (Int) -> Void) async throws {
        let files = try Self.files(of: disk, upTo: point, in: chain, repository: repository)
        var images: [DiskImage] = []
        for (position, file) in files.enumerated() {
            images.append(DiskImage(path: file, format: .qcow2, parentPath: position + 1 < files.count ? files[position + 1] : nil))
        }
        try await catalog.tool.convert(chain: images, destinationPath: destination, format: disk.format, type: .dynamic, progress: progress)
    }
}
