import APITypes
import Foundation
import HostServices
import QMP
import Storage

extension BackupService {
    /// Takes one backup point of a Running, Paused or Off VM into the repository `request.destinationPath`, as a job.
    package func backUp(_ name: String, _ request: BackupRequest) async throws -> JobInfo {
        guard await host.hasVM(named: name) else { throw ViridianError(.notFound, "no VM named '\(Quote.prefix(name))'") }
        let repository = try BackupRepository(path: request.destinationPath, create: true)
        return job(kind: "vm.backup", vm: name, description: "Backing up \(name) to \(repository.root)", failure: "the backup of VM '\(name)'") { progress in
            let subject = try await host.beginBackupOperation(name, .backingUp, jobID: progress.jobID)
            do {
                let result = try await repository.withChainLock(vm: subject.record.name) {
                    try await take(subject, request, repository: repository, progress: progress)
                }
                await host.endBackupOperation(subject.record.id)
                return result
            } catch {
                await host.endBackupOperation(subject.record.id)
                throw error
            }
        }
    }

    private func take(_ subject: BackupSubject, _ request: BackupRequest, repository: BackupRepository, progress: JobProgress) async throws -> String {
        let vm = subject.record
        let running = [.running, .paused].contains(vm.state) && subject.client != nil
        guard running || vm.state == .off else {
            throw ViridianError(.invalidState, "VM '\(vm.name)' is \(vm.state.rawValue); a backup is taken of a Running, Paused or Off VM")
        }
        var chain = try repository.chain(ofVM: vm.name) ?? BackupChain(vmID: vm.id, vmName: vm.name)
        guard chain.vmID == vm.id else {
            throw ViridianError(.conflict, "\(repository.folder(ofVM: vm.name)) holds backups of another VM named '\(vm.name)' (id \(chain.vmID)); "
                                + "back this one up to another repository")
        }
        try await finishInterruptedFold(&chain, repository: repository)
        let disks = try await TrackedDisk.load(subject.chains, checkpointFolder: subject.paths.checkpointDirectory, tool: catalog.tool)
        guard !disks.isEmpty else { throw ViridianError(.invalidState, "VM '\(vm.name)' has no hard disks to back up") }
        let tracking = ChangeTracking(folder: subject.paths.changeTrackingDirectory, tool: catalog.tool, logger: logger)
        if running, let client = subject.client { await tracking.arm(client, disks: disks) }
        let previous = chain.restorable.last
        var fullBecause: String?
        if request.mode != .full {
            fullBecause = incrementalRefusal(previous, disks: disks, tracking: tracking, running: running)
            if request.mode == .incremental, let reason = fullBecause {
                events.record(.warning, .backup, vm: vm.name, "VM '\(vm.name)': the incremental backup reads every block instead, because \(reason)")
            }
        }
        let incremental = request.mode != .full && fullBecause == nil
        let point = pointName(after: chain)
        let folder = "\(repository.folder(ofVM: vm.name))/\(point)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        var copied = false
        do {
            progress.report(2, "making the backup files")
            var copies: [PointInTimeCopy.Disk] = []
            for disk in disks {
                let file = "disk\(disk.index).qcow2"
                var parents: [String] = []
                if incremental, let previous, let before = previous.disks.first(where: { $0.index == disk.index }) {
                    parents = try Self.files(of: before, upTo: previous, in: chain, repository: repository)
                }
                try await catalog.tool.createBackupTarget(path: "\(folder)/\(file)", sizeBytes: disk.sizeBytes,
                                                          parentName: parents.isEmpty ? nil : "../\(previous?.name ?? "")/\(file)")
                copies.append(PointInTimeCopy.Disk(index: disk.index, source: "", target: "\(folder)/\(file)", parents: parents,
                                                   bitmap: incremental ? ChangeTracking.bitmap : nil,
                                                   resetBitmap: incremental ? nil : ChangeTracking.bitmap))
            }
            let token = UUID().uuidString.lowercased()
            let copyProgress: @Sendable (Int64, Int64) -> Void = { done, total in
                progress.report(5 + Int(total > 0 ? done * 85 / total : 0), "copying \(ByteSize.format(UInt64(max(0, done)))) of \(ByteSize.format(UInt64(max(0, total))))")
            }
            var frozenFor: Duration?
            var consistent = false
            let before = try tracking.beginBackup()
            if running, let client = subject.client {
                for index in copies.indices {
                    let root = try await client.rootNode(ofDevice: "disk\(copies[index].index)")
                    copies[index].source = root
                    if try await !client.dirtyBitmaps(onNode: root).contains(where: { $0.name == ChangeTracking.bitmap }) {
                        copies[index].resetBitmap = nil
                    }
                }
                do {
                    frozenFor = try await copyRunning(subject, client: client, copies, crashConsistent: request.crashConsistent, progress: copyProgress)
                    consistent = frozenFor != nil
                } catch {
                    tracking.abandonBackup(before)
                    throw error
                }
                copied = true
                for disk in disks { try await client.clearDirtyBitmap(node: ChangeTracking.node(of: disk), name: ChangeTracking.bitmap) }
            } else {
                do {
                    try await copyOff(subject, disks, copies, tracking: tracking, incremental: incremental, progress: copyProgress) { copied = true }
                } catch {
                    if !copied { tracking.abandonBackup(before) }
                    throw error
                }
                consistent = true
            }
            Failpoints.crash(at: "backup-exit-after-copy")
            progress.report(92, "taking checksums while the files reach the disk")
            var backupDisks: [BackupDisk] = []
            var checksums: [String: FileChecksums] = [:]
            for disk in disks {
                let file = "disk\(disk.index).qcow2"
                checksums[file] = try await PointFile.seal("\(folder)/\(file)")
                backupDisks.append(BackupDisk(index: disk.index, path: disk.identity.path, format: disk.identity.format, sizeBytes: disk.sizeBytes,
                                              file: file, bytes: Self.allocatedBytes("\(folder)/\(file)")))
            }
            var nvram: String?
            if FileManager.default.fileExists(atPath: subject.paths.nvram) {
                try FileManager.default.copyItem(atPath: subject.paths.nvram, toPath: "\(folder)/nvram.fd")
                checksums["nvram.fd"] = try await PointFile.seal("\(folder)/nvram.fd")
                nvram = "nvram.fd"
            }
            var tpmState: String?
            if FileManager.default.fileExists(atPath: subject.paths.tpmState) {
                try FileManager.default.copyItem(atPath: subject.paths.tpmState, toPath: "\(folder)/\(ExportedVM.tpmStateFile)")
                checksums[ExportedVM.tpmStateFile] = try await PointFile.seal("\(folder)/\(ExportedVM.tpmStateFile)")
                tpmState = ExportedVM.tpmStateFile
            }
            try WireJSON.encoder().encode(checksums).write(to: URL(fileURLWithPath: "\(folder)/checksums.json"))
            try await PointFile.flush("\(folder)/checksums.json")
            let note = incremental ? nil : fullBecause.map { "full because \($0)" }
            chain.points.append(BackupPoint(name: point, kind: incremental ? .incremental : .full, createdAt: Date(), token: token,
                                            applicationConsistent: consistent, note: note, configuration: vm.configuration, notes: vm.notes,
                                            nvram: nvram, tpmState: tpmState, disks: backupDisks))
            chain.vmName = vm.name
            try repository.store(chain)
            if running { try tracking.backupTaken(token) } else { try tracking.offlineBackupTaken(token, disks: disks) }
            let bytes = backupDisks.reduce(0) { $0 + $1.bytes }
            let kind = incremental ? "incremental" : "full"
            let summary = "\(kind) backup point \(point) of VM '\(vm.name)' in \(repository.root): \(ByteSize.format(UInt64(bytes)))"
                + (consistent ? "" : ", crash-consistent") + (note.map { " (\($0))" } ?? "")
            events.record(.information, .backup, vm: vm.name, summary)
            return summary + (frozenFor.map { " (the guest's file systems were frozen for \(Int($0 / .milliseconds(1))) ms)" } ?? "")
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            // The copy emptied the bitmaps, but the point it made is not kept.
            if copied { tracking.invalidate("the backup after point \(previous?.name ?? "none") failed after its copy") }
            throw error
        }
    }

    /// Why the next point cannot be incremental, or nil when it can.
    private func incrementalRefusal(_ previous: BackupPoint?, disks: [TrackedDisk], tracking: ChangeTracking, running: Bool) -> String? {
        guard let previous else { return "the repository has no earlier backup of the VM" }
        let before = previous.disks.map { "\($0.index):\($0.path):\($0.sizeBytes)" }
        let now = disks.map { "\($0.index):\($0.identity.path):\($0.sizeBytes)" }
        guard before == now else { return "the VM's disks changed since point \(previous.name)" }
        if let reason = tracking.unusableReason(since: previous.token) { return reason }
        if !running, let reason = tracking.offlineReason(disks: disks) { return reason }
        return nil
    }

    /// A running VM's copy: the guest frozen around the instant (unless crash-consistent, or it cannot).
    private func copyRunning(_ subject: BackupSubject, client: QMPClient, _ copies: [PointInTimeCopy.Disk], crashConsistent: Bool,
                             progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> Duration? {
        let guest = GuestQuiesce(subject: subject, crashConsistent: crashConsistent, events: events, what: "the backup")
        return try await PointInTimeCopy(client: client).run(copies, quiesce: { await guest.freeze() }, resume: { await guest.thaw() },
                                                             progress: progress)
    }

    /// An Off VM's copy. Its disks are still (the backup holds the VM's operation), so a full point
    /// is each disk copied by `qemu-img convert`, after which the change-tracking files start over
    /// empty. An incremental point runs in a storage daemon with the disks opened read-only and the
    /// change-tracking files' bits copied onto them; the files are emptied once the copy is done.
    private func copyOff(_ subject: BackupSubject, _ disks: [TrackedDisk], _ copies: [PointInTimeCopy.Disk], tracking: ChangeTracking,
                         incremental: Bool, progress: @escaping @Sendable (Int64, Int64) -> Void, copied: () -> Void) async throws {
        guard incremental else {
            let total = max(1, disks.reduce(0) { $0 + $1.sizeBytes })
            var done: Int64 = 0
            for (disk, copy) in zip(disks, copies) {
                let before = done
                try await catalog.tool.copyIntoBackupTarget(chain: disk.chain, target: copy.target) { percent in
                    progress(before + disk.sizeBytes * Int64(percent) / 100, total)
                }
                done += disk.sizeBytes
            }
            copied()
            for disk in disks { try await tracking.makeEmptyFile(for: disk) }
            return
        }
        let daemon = try await StorageDaemon.launch(in: "\(runtimeDirectory)/backup-\(subject.record.id.prefix(8))", logger: logger)
        do {
            let client = daemon.client
            var sources = copies
            for (position, disk) in disks.enumerated() {
                let node = "src\(disk.index)"
                try await client.blockdevAdd(BlockNodes.definition(disk.chain, nodeName: node, readOnly: true))
                sources[position].source = node
                let holder = ChangeTracking.node(of: disk)
                try await client.blockdevAdd(["driver": "qcow2", "node-name": .string(holder),
                                              "file": ["driver": "file", "filename": .string(tracking.file(of: disk))], "backing": .null])
                try await client.addDirtyBitmap(node: node, name: ChangeTracking.bitmap, granularity: ChangeTracking.granularity, persistent: false)
                try await client.mergeDirtyBitmaps(node: node, name: ChangeTracking.bitmap, sources: [(holder, ChangeTracking.bitmap)])
            }
            _ = try await PointInTimeCopy(client: client).run(sources, quiesce: { false }, resume: {}, progress: progress)
            copied()
            for disk in disks {
                try await client.clearDirtyBitmap(node: ChangeTracking.node(of: disk), name: ChangeTracking.bitmap)
            }
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    /// `20261202-184501`, the point's UTC time; a suffix when the chain has that name already.
    private func pointName(after chain: BackupChain) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyyMMdd-HHmmss"
        let base = format.string(from: Date())
        var name = base
        var suffix = 2
        while chain.points.contains(where: { $0.name == name }) {
            name = "\(base)-\(suffix)"
            suffix += 1
        }
        return name
    }

    /// Bytes a file takes on its file system.
    static func allocatedBytes(_ path: String) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { return 0 }
        return Int64(status.st_blocks) * 512
    }
}
