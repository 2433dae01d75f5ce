import APITypes
import Engine
import Foundation
import HostServices
import Storage

/// Pull mode (`vm backup NAME --export`): a VM's point in time served over NBD with TLS for backup
/// tools of other makers, with the blocks changed since the VM's last backup or export as a
/// `qemu:dirty-bitmap:` meta context. The export holds the VM's turn until `--export-stop` (the
/// tool succeeded: the next export's bitmap counts from this one), `--export-stop --discard` or the
/// timeout (it failed: its changes count toward the next), or the worker's end (the bits are lost).
extension BackupService {
    /// The longest an export may be asked to last.
    static let exportTimeouts = 1...86_400

    /// Starts the export of a Running, Paused or Off VM and returns how to connect to it.
    package func startExport(_ name: String, _ request: BackupExportRequest) async throws -> BackupExportInfo {
        guard await host.hasVM(named: name) else { throw ViridianError(.notFound, "no VM named '\(Quote.prefix(name))'") }
        let timeout = request.timeoutSeconds ?? 3600
        guard Self.exportTimeouts.contains(timeout) else {
            throw ViridianError(.invalidArgument, "the export timeout must be \(Self.exportTimeouts.lowerBound)–\(Self.exportTimeouts.upperBound) seconds, not \(timeout)")
        }
        let listen = try Self.listenAddress(request.listen)
        let subject = try await host.beginBackupOperation(name, .exportingBackup, jobID: nil)
        do {
            let session = try await open(subject, request, listen: listen)
            let ending = endingTask(session, after: .seconds(timeout))
            await exports.add(session, ending: ending)
            let info = session.info
            events.record(.information, .backup, vm: info.vm, "VM '\(info.vm)': its point in time is exported over NBD at \(info.address):\(info.port) "
                          + (info.bitmapContext != nil ? "with the blocks changed since the last backup or export" : "to be read whole (\(info.fullBecause ?? ""))"))
            return info
        } catch {
            await host.endBackupOperation(subject.record.id)
            throw error
        }
    }

    /// The export of the VM named `name`.
    package func export(ofVM name: String) async throws -> BackupExportInfo {
        guard let info = await exports.info(ofVM: name) else { throw ViridianError(.notFound, "VM '\(Quote.prefix(name))' has no NBD export") }
        return info
    }

    /// Ends the export of the VM named `name`: completed (the tool read what it needed), or discarded (it failed).
    package func stopExport(_ name: String, discard: Bool) async throws -> BackupExportInfo {
        guard let session = await exports.take(vm: name) else { throw ViridianError(.notFound, "VM '\(Quote.prefix(name))' has no NBD export") }
        return await end(session, as: discard ? .discarded : .completed, because: discard ? "--discard" : nil)
    }

    /// viridiand is stopping: every export ends as failed, its changes kept for the next.
    package func discardAllExports() async {
        for session in await exports.takeAll() { _ = await end(session, as: .discarded, because: "viridiand stopped") }
    }

    /// At viridiand's start: the folders of exports an earlier viridiand did not end, and the
    /// storage daemons serving them (the exports already marked the bits lost).
    package func removeLeftoverExports() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: exportDirectory)) ?? []
        for name in names {
            let folder = "\(exportDirectory)/\(name)"
            StorageDaemon.killLeftover(in: "\(folder)/daemon", logger: logger)
            do { try FileManager.default.removeItem(atPath: folder) } catch {
                logger.warning("cannot remove a leftover export folder", metadata: ["path": "\(folder)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Opening

    private func open(_ subject: BackupSubject, _ request: BackupExportRequest, listen: (host: String, port: Int?)) async throws -> PullExports.Session {
        let vm = subject.record
        let running = [.running, .paused].contains(vm.state) && subject.client != nil
        guard running || vm.state == .off else {
            throw ViridianError(.invalidState, "VM '\(vm.name)' is \(vm.state.rawValue); an export is made of a Running, Paused or Off VM")
        }
        let trackedDisks = try await TrackedDisk.load(subject.chains, checkpointFolder: subject.paths.checkpointDirectory, tool: catalog.tool)
        guard !trackedDisks.isEmpty else { throw ViridianError(.invalidState, "VM '\(vm.name)' has no hard disks to export") }
        let tracking = ChangeTracking(folder: subject.paths.changeTrackingDirectory, tool: catalog.tool, logger: logger)
        if running, let client = subject.client { await tracking.arm(client, disks: trackedDisks) }
        let base = tracking.base(running: running, disks: trackedDisks)
        var fullBecause = request.mode == .full ? "a full export was asked for" : base.unusable
        if request.mode == .incremental, let reason = fullBecause {
            events.record(.warning, .backup, vm: vm.name, "VM '\(vm.name)': the export has no changed-block bitmap; the tool must read every block, because \(reason)")
        }
        var restartsTracking = true
        if running, let client = subject.client {
            for disk in trackedDisks {
                let bitmaps = try await client.dirtyBitmaps(onNode: try await client.rootNode(ofDevice: "disk\(disk.index)"))
                if !bitmaps.contains(where: { $0.name == ChangeTracking.bitmap }) {
                    restartsTracking = false
                    fullBecause = fullBecause ?? "the VM's worker runs without change tracking"
                }
            }
        }
        let withBitmap = fullBecause == nil

        let folder = "\(exportDirectory)/\(vm.id.prefix(8))"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: "\(folder)/tls", withIntermediateDirectories: true)
        do {
            try APIGroup.share(exportDirectory, mode: 0o750)
            try APIGroup.share(folder, mode: 0o750)
            try APIGroup.share("\(folder)/tls", mode: 0o750)
            let pskFile = try Self.writeKey(in: "\(folder)/tls")
            try TLSDiffieHellmanGroup.write(into: "\(folder)/tls")
            let before = try tracking.beginBackup(lostIfInterrupted: "an NBD export of the VM did not end with --export-stop")
            var daemon: StorageDaemon?
            do {
                var disks: [PullExport.Disk] = []
                let export: PullExport
                if running, let client = subject.client {
                    for disk in trackedDisks {
                        let scratch = "\(folder)/scratch\(disk.index).qcow2"
                        try await catalog.tool.createBackupTarget(path: scratch, sizeBytes: disk.sizeBytes, parentName: nil)
                        disks.append(PullExport.Disk(index: disk.index, source: try await client.rootNode(ofDevice: "disk\(disk.index)"),
                                                     tracker: ChangeTracking.node(of: disk), scratch: scratch))
                    }
                    export = PullExport(client: client, fleecing: true, logger: logger)
                } else {
                    let launched = try await StorageDaemon.launch(in: "\(folder)/daemon", logger: logger)
                    daemon = launched
                    for disk in trackedDisks {
                        let node = "src\(disk.index)"
                        try await launched.client.blockdevAdd(BlockNodes.definition(disk.chain, nodeName: node, readOnly: true))
                        var tracker: String?
                        if withBitmap {
                            tracker = ChangeTracking.node(of: disk)
                            try await launched.client.blockdevAdd(["driver": "qcow2", "node-name": .string(ChangeTracking.node(of: disk)),
                                                                   "file": ["driver": "file", "filename": .string(tracking.file(of: disk))], "backing": .null])
                        }
                        disks.append(PullExport.Disk(index: disk.index, source: node, tracker: tracker, scratch: nil))
                    }
                    export = PullExport(client: launched.client, fleecing: false, logger: logger)
                }
                let guest = GuestQuiesce(subject: subject, crashConsistent: request.crashConsistent || !running, events: events, what: "the export")
                let pointInTime = Date()
                let opened = try await export.open(disks, withBitmap: withBitmap, restartTracking: running && restartsTracking,
                                                   tlsDirectory: "\(folder)/tls", address: listen.host, port: listen.port,
                                                   quiesce: { await guest.freeze() }, resume: { await guest.thaw() })
                let uriHost = Self.uriHost(listen.host)
                let info = BackupExportInfo(
                    vm: vm.name, state: .serving, token: UUID().uuidString.lowercased(), changedSince: withBitmap ? base.token : nil,
                    bitmapContext: withBitmap ? PullExport.bitmapContext : nil, fullBecause: fullBecause, pointInTime: pointInTime,
                    applicationConsistent: opened.frozen || !running, address: listen.host, port: opened.port, tlsUsername: PullExport.tlsUsername,
                    tlsPSKFile: pskFile,
                    disks: zip(disks, trackedDisks).map { disk, tracked in
                        BackupExportDisk(index: disk.index, name: disk.exportName, sizeBytes: tracked.sizeBytes,
                                         uri: "nbds://\(PullExport.tlsUsername)@\(uriHost):\(opened.port)/\(disk.exportName)?tls-psk-file=\(pskFile)")
                    },
                    expiresAt: Date().addingTimeInterval(Double(request.timeoutSeconds ?? 3600)))
                return PullExports.Session(info: info, vmID: vm.id, disks: disks, trackedDisks: trackedDisks, export: export, daemon: daemon,
                                           tracking: tracking, trackingBefore: before, withBitmap: withBitmap,
                                           restartsTracking: restartsTracking, folder: folder)
            } catch let lost as PullExport.BitsLost {
                throw lost.underlying
            } catch {
                await daemon?.stop()
                tracking.abandonBackup(before)
                throw error
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    /// A new pre-shared key (256 bits) for identity `viridian`, in `keys.psk` (QEMU's and gnutls' format), readable by group `viridian`.
    private static func writeKey(in directory: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let path = "\(directory)/keys.psk"
        guard FileManager.default.createFile(atPath: path, contents: Data("\(PullExport.tlsUsername):\(key)\n".utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw ViridianError(.invalidState, "cannot write the export's key file \(path)")
        }
        try APIGroup.share(path, mode: 0o640)
        return path
    }

    /// `--listen ADDRESS[:PORT]`: the address alone lets the first free port from 10809 be chosen.
    static func listenAddress(_ text: String?) throws -> (host: String, port: Int?) {
        guard let text, !text.isEmpty else { return ("127.0.0.1", nil) }
        var address: (host: String, port: Int?)
        if text.hasPrefix("[") && text.hasSuffix("]") {
            address = (String(text.dropFirst().dropLast()), nil)
        } else if text.hasPrefix("[") || text.filter({ $0 == ":" }).count == 1 {
            let parsed = try HostPort(parsing: text)
            address = (parsed.host, parsed.port)
        } else {
            address = (text, nil)
        }
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, address.host, &v4) == 1 || inet_pton(AF_INET6, address.host, &v6) == 1 else {
            throw ViridianError(.invalidArgument, "'\(text)' is not an address to listen on: write ADDRESS or ADDRESS:PORT, for example 0.0.0.0:10809 or [::1]")
        }
        return address
    }

    /// The host part of a URI for clients: this host's name for a wildcard address, IPv6 in brackets.
    private static func uriHost(_ address: String) -> String {
        if address == "0.0.0.0" || address == "::" { return ProcessInfo.processInfo.hostName }
        return address.contains(":") ? "[\(address)]" : address
    }

    // MARK: - Ending

    /// Ends `session` after `timeout` as failed, or as lost when its worker (or storage daemon) ends first.
    private func endingTask(_ session: PullExports.Session, after timeout: Duration) -> Task<Void, Never> {
        let client = session.export.client
        let service = self
        return Task {
            let timedOut = await withTaskGroup(of: Bool?.self) { group in
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return nil }
                    return true
                }
                group.addTask {
                    for await _ in client.events() {}
                    return Task.isCancelled ? nil : false
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let timedOut, !Task.isCancelled, let taken = await service.exports.take(id: session.vmID) else { return }
            // Taking it cancelled this task: the ending runs in its own.
            await Task {
                _ = await service.end(taken, as: timedOut ? .discarded : .lost,
                                      because: timedOut ? "its timeout passed" : "the VM's worker ended under it")
            }.value
        }
    }

    /// Ends an export taken out of the registry, and gives the VM's turn back.
    private func end(_ session: PullExports.Session, as outcome: BackupExportState, because reason: String?) async -> BackupExportInfo {
        var info = session.info
        info.state = outcome
        let vm = info.vm
        let tracking = session.tracking
        switch outcome {
        case .completed:
            _ = await session.export.close(session.disks, mergeBack: false)
            if let daemon = session.daemon {
                await completeOffline(session, daemon)
            } else if session.restartsTracking {
                do { try tracking.backupTaken(info.token) } catch {
                    logger.error("cannot record the completed export in the change tracking", metadata: ["vm": "\(vm)", "error": "\(error)"])
                }
            }
            events.record(.information, .backup, vm: vm, "VM '\(vm)': its NBD export completed; the next export's bitmap counts from it (token \(info.token))")
        case .discarded:
            let mergedBack = await session.export.close(session.disks, mergeBack: session.daemon == nil && session.restartsTracking)
            await session.daemon?.stop()
            if mergedBack { tracking.abandonBackup(session.trackingBefore) }
            events.record(.warning, .backup, vm: vm, "VM '\(vm)': its NBD export ended as failed (\(reason ?? "discarded")); "
                          + (mergedBack ? "its changes count toward the next backup or export" : "the next backup or export reads every block"))
        case .lost, .serving:
            await session.daemon?.stop()
            events.record(.warning, .backup, vm: vm, "VM '\(vm)': its NBD export ended because \(reason ?? "it was lost"); the next backup or export reads every block")
        }
        do { try FileManager.default.removeItem(atPath: session.folder) } catch {
            logger.warning("cannot remove an export's folder", metadata: ["path": "\(session.folder)", "error": "\(error)"])
        }
        await host.endBackupOperation(session.vmID)
        return info
    }

    /// A completed export of an Off VM: its change-tracking files start over (emptied as the storage
    /// daemon ends, or made anew when they held nothing to trust).
    private func completeOffline(_ session: PullExports.Session, _ daemon: StorageDaemon) async {
        do {
            for (disk, tracked) in zip(session.disks, session.trackedDisks) {
                if let tracker = disk.tracker {
                    try await daemon.client.clearDirtyBitmap(node: tracker, name: ChangeTracking.bitmap)
                } else {
                    try await session.tracking.makeEmptyFile(for: tracked)
                }
            }
            await daemon.stop()
            try session.tracking.offlineBackupTaken(session.info.token, disks: session.trackedDisks)
        } catch {
            await daemon.stop()
            session.tracking.invalidate("the change tracking could not start over after an export: \(ViridianError.wrapping(error).message)")
        }
    }
}
