import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import Logging
import NIOCore
import NIOFoundationCompat
import Peers
import QMP
import Storage

/// The destination side of moves: prepares a place for a VM a peer sends, and hands it over to
/// the VM manager exactly once, on the source's commit. Until then nothing is in the
/// inventory; an abort, a dead worker or a lapsed lease (the source stopped calling) discards
/// the worker and every file made for it.
package actor IncomingMigrations {
    /// How long a prepared move lives without a keepalive or commit from its source, by default.
    package static let defaultLease = Duration.seconds(20)

    private struct Pending {
        let peerName: String
        let request: IncomingRequest
        let record: VMRecord
        let paths: WorkerPaths
        let marker: IncomingMarker
        var client: QMPClient?
        var pid: Int32?
        var exports: [Int: String]
        var leaseEnds: ContinuousClock.Instant
        /// Uploads an offline move expects (name → path) and those that arrived.
        var uploads: [String: String] = [:]
        var received: Set<String> = []
    }

    private var pending: [String: Pending] = [:]
    /// How recent moves ended, for a source that lost the answer to its commit.
    /// Moves whose commit is storing the VM: neither abortable nor committable again meanwhile.
    private var committing: Set<String> = []
    private let vms: any ArrivalHost
    private let peers: PeerRegistry
    private let settings: HostSettingsStore
    private let catalog: DiskCatalog
    private let events: EventLog
    private let stateDirectory: String
    private let logger: Logger
    /// How long a prepared move lives without a keepalive or commit from its source.
    private let lease: Duration

    package init(vms: any ArrivalHost, peers: PeerRegistry, settings: HostSettingsStore, catalog: DiskCatalog, events: EventLog,
                 stateDirectory: String, logger: Logger, lease: Duration = IncomingMigrations.defaultLease) {
        self.vms = vms
        self.lease = lease
        self.peers = peers
        self.settings = settings
        self.catalog = catalog
        self.events = events
        self.stateDirectory = stateDirectory
        self.logger = logger
    }

    // MARK: Prepare

    /// Checks the request, makes the disks (with storage), launches the waiting worker and
    /// returns where the source sends memory and disks. Leaves nothing behind when it fails.
    package func prepare(_ request: IncomingRequest, from peer: PeerRegistry.Peer) async throws -> IncomingPlan {
        guard request.protocolVersion == PeerProtocol.version else {
            throw ViridianError(.conflict, "host '\(peer.record.name)' speaks host protocol \(request.protocolVersion.map(String.init) ?? "1"); "
                                + "this host speaks version \(PeerProtocol.version): upgrade the older of the two before moving VMs between them")
        }
        let id = UUID().uuidString.lowercased()
        var record = request.vm.record
        guard UUID(uuidString: record.id)?.uuidString.lowercased() == record.id else {
            throw ViridianError(.invalidArgument, "the VM id '\(record.id.prefix(40))' is not a lowercase UUID")
        }
        if let refusal = vms.machineTypeRefusal(record.configuration) {
            throw ViridianError(.conflict, "host '\(peers.identity.hostName)' cannot run VM '\(record.name)': \(refusal)"
                                + (request.mode == .offline ? "; an Off VM can change type with: viridian vm set \(record.name) --machine-type TYPE" : ""))
        }
        let paths = WorkerPaths(stateDirectory: stateDirectory, vmID: record.id)
        var created: [String] = []
        var diskPaths: [Int: String] = [:]
        var reserved = false
        do {
            if request.includeStorage {
                diskPaths = try diskTargets(request, record: record)
                if request.mode == .live {
                    try await createDisks(request, at: diskPaths)
                }
                created += diskPaths.values
                for (index, path) in diskPaths { record.configuration.drives[index].path = path }
            }
            try recordDisks(request, record: record, diskPaths: diskPaths)
            try await vms.reserveArrival(record, from: peer.record.name,
                                         arriving: request.mode == .offline ? Set(diskPaths.values) : [])
            reserved = true
            created.append(paths.vmDirectory)
            if let key = request.shieldingKey {
                try ShieldingKey.install(key, paths)
                created.append(paths.shieldingKey)
            }
            let marker = IncomingMarker(migrationID: id, vmName: record.name, files: created)
            try FileManager.default.createDirectory(atPath: paths.vmDirectory, withIntermediateDirectories: true)
            if let log = request.consoleLog?.suffix(IncomingRequest.consoleLogLimit) {
                try Data(log).write(to: URL(fileURLWithPath: paths.consoleLog))
            }
            if let nvram = request.nvram {
                guard nvram.count <= 64 << 20 else { throw ViridianError(.invalidArgument, "the UEFI variable store is too large") }
                try nvram.write(to: URL(fileURLWithPath: paths.nvram))
            }
            if let tpmState = request.tpmState { try SoftwareTPM.installState(tpmState, paths) }
            var entry = Pending(peerName: peer.record.name, request: request, record: record, paths: paths, marker: marker, client: nil, pid: nil,
                                exports: [:], leaseEnds: .now + lease)
            entry.uploads = try uploads(request, diskPaths: diskPaths, paths: paths)
            var plan = IncomingPlan(id: id, hostName: peers.identity.hostName, endpoints: endpoints(for: peer),
                                    migrationPort: nil, nbdPort: nil, exports: [:], diskPaths: diskPaths)
            if request.mode == .live {
                try marker.write(paths)
                try QEMUTLSCredentials.write(identity: peers.identity, peer: peer.authority, endpoint: .server,
                                             to: paths.migrationTLSDirectory)
                entry.pid = try await vms.launchArrivalWorker(record, tlsDirectory: paths.migrationTLSDirectory)
                let client = try await QMPClient.connect(socketPath: paths.qmpSocket, logger: logger)
                entry.client = client
                pending[id] = entry
                try await MigrationTuningSetup.apply(request.tuning, to: client, tlsCredentials: QEMUCommandLine.migrationTLSObject,
                                                     tlsHostName: nil)
                let port = try FreePort.pick()
                try await client.migrateIncoming(uri: "tcp:0.0.0.0:\(port)")
                plan.migrationPort = port
                if request.includeStorage {
                    let nbdPort = try FreePort.pick()
                    try await client.nbdServerStart(host: "0.0.0.0", port: nbdPort, tlsCredentials: QEMUCommandLine.migrationTLSObject)
                    for index in diskPaths.keys.sorted() {
                        let name = "drive\(index)"
                        try await client.blockExportAdd(id: "export\(index)", nodeName: name, name: name)
                        plan.exports[index] = name
                    }
                    plan.nbdPort = nbdPort
                    pending[id]?.exports = plan.exports
                }
                watch(id, client: client)
            } else {
                if !entry.uploads.isEmpty { try marker.write(paths) }
                pending[id] = entry
            }
            watchLease(id)
            events.record(.information, .migration, vm: record.name,
                          "preparing to receive VM '\(record.name)' from host '\(peer.record.name)' (\(request.mode.rawValue)\(request.includeStorage ? ", with storage" : ""))")
            return plan
        } catch {
            if let entry = pending.removeValue(forKey: id) {
                try? await entry.client?.quit()
                entry.client?.close()
            }
            forgetCreatedDisks(Array(diskPaths.values))
            if reserved {
                // The VM's folders here are ours only once the place is reserved (its id is not in use).
                IncomingMarker(migrationID: id, vmName: record.name, files: created).discard(paths)
                await vms.releaseArrival(record.id)
            } else {
                for file in created { try? FileManager.default.removeItem(atPath: file) }
            }
            throw error
        }
    }

    /// The host's addresses the source may send to: on the migration networks in their order,
    /// or — with none set — the address the source reaches this host's listener at.
    private func endpoints(for peer: PeerRegistry.Peer) -> [MigrationEndpoint] {
        let networks = settings.migrationNetworks
        guard !networks.isEmpty else { return [] }
        let addresses = IPNetwork.hostAddresses()
        return networks.flatMap { network in
            addresses.filter { network.contains($0) }.map { MigrationEndpoint(address: $0, network: network.description) }
        }
    }

    /// Where each disk of a move with storage goes; checks the folder, its free space and that no file is in the way.
    private func diskTargets(_ request: IncomingRequest, record: VMRecord) throws -> [Int: String] {
        let directory = request.destinationPath ?? "\(stateDirectory)/disks"
        guard directory.hasPrefix("/") else {
            throw ViridianError(.invalidArgument, "the destination path must be absolute: '\(directory)'")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ViridianError(.notFound, "the destination path \(directory) does not exist on this host")
        }
        let needed = request.disks.map(\.allocatedBytes).reduce(0, +)
        if let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory),
           let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value, free < needed {
            throw ViridianError(.conflict, "\(directory) has \(ByteSize.format(UInt64(free))) free; the disks need \(ByteSize.format(UInt64(needed)))")
        }
        var targets: [Int: String] = [:]
        for disk in request.disks {
            guard record.configuration.drives.indices.contains(disk.driveIndex),
                  let source = record.configuration.drives[disk.driveIndex].path,
                  let format = VHDFormat(rawValue: disk.format), disk.virtualSize > 0 else {
                throw ViridianError(.invalidArgument, "the move names a disk this VM does not have")
            }
            let name = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
            let path = "\(directory)/\(name).\(format == .raw ? "img" : format.rawValue)"
            try DiskPath.requireAbsent(path)
            targets[disk.driveIndex] = path
        }
        return targets
    }

    /// Empty disks a live move mirrors into.
    private func createDisks(_ request: IncomingRequest, at targets: [Int: String]) async throws {
        var created: [String] = []
        do {
            for disk in request.disks {
                guard let path = targets[disk.driveIndex], let format = VHDFormat(rawValue: disk.format) else { continue }
                try await catalog.tool.create(path: path, format: format, type: .dynamic, sizeBytes: UInt64(disk.virtualSize))
                created.append(path)
            }
        } catch {
            for path in created { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
    }

    /// Records the arriving VM's disks before its worker opens them: disks made here for a move with
    /// storage (flat, of the source's format), or — on shared storage — the chains the source recorded.
    private func recordDisks(_ request: IncomingRequest, record: VMRecord, diskPaths: [Int: String]) throws {
        if request.includeStorage {
            for disk in request.disks {
                guard let path = diskPaths[disk.driveIndex], let format = VHDFormat(rawValue: disk.format) else { continue }
                try catalog.recordCreated(DiskImage(path: path, format: format), owner: record.id)
            }
            return
        }
        let images = request.diskImages ?? []
        guard images.count <= 64 * max(1, record.configuration.drives.count) else {
            throw ViridianError(.invalidArgument, "the move describes too many disk files")
        }
        for drive in record.configuration.drives where drive.kind == .hardDisk {
            guard let path = drive.path, images.contains(where: { $0.path == path }) else {
                throw ViridianError(.invalidArgument, "the move does not say what \(drive.path ?? "a disk") is (the source runs an older Viridian)")
            }
        }
        for image in images {
            guard image.path.hasPrefix("/") else { throw ViridianError(.invalidArgument, "a disk path of the move is not absolute") }
            try catalog.recordFromPeer(image)
        }
    }

    /// Forgets the records of disks made here for a move that did not happen (their files are discarded).
    private func forgetCreatedDisks(_ paths: [String]) {
        for path in paths where (try? catalog.record(path))?.origin == .created {
            do { try catalog.forget(path) } catch {
                events.record(.warning, .storage, vm: nil, "cannot forget the record of \(path): \(ViridianError.wrapping(error).message)")
            }
        }
    }

    /// The files an offline move uploads, by name, and where each goes.
    private func uploads(_ request: IncomingRequest, diskPaths: [Int: String], paths: WorkerPaths) throws -> [String: String] {
        guard request.mode == .offline else { return [:] }
        var uploads: [String: String] = [:]
        for file in request.files {
            guard file.size >= 0 else { throw ViridianError(.invalidArgument, "a file of the move has a negative size") }
            if file.name == IncomingFile.savedState, request.vm.state == .saved {
                uploads[file.name] = paths.savedState
            } else if let index = diskPaths.first(where: { IncomingFile.disk($0.key) == file.name })?.key, let path = diskPaths[index] {
                uploads[file.name] = path
            } else {
                throw ViridianError(.invalidArgument, "the move names an unexpected file '\(file.name.prefix(40))'")
            }
        }
        if request.vm.state == .saved, uploads[IncomingFile.savedState] == nil {
            throw ViridianError(.invalidArgument, "a Saved VM moves with its saved state")
        }
        return uploads
    }

    /// Writes an uploaded file of an offline move: exactly the size announced, under a temporary
    /// name until complete.
    package func receive<Body: AsyncSequence & Sendable>(_ id: String, file name: String, peer: String, body: Body) async throws
        where Body.Element == ByteBuffer {
        guard let entry = pending[id], entry.peerName == peer else { throw unknown(id) }
        guard let path = entry.uploads[name], !entry.received.contains(name),
              let size = entry.request.files.first(where: { $0.name == name })?.size else {
            throw ViridianError(.invalidArgument, "the move expects no (more) file named '\(name.prefix(40))'")
        }
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw ViridianError(.internalError, "cannot write \(partial)")
        }
        var written: Int64 = 0
        do {
            for try await buffer in body {
                written += Int64(buffer.readableBytes)
                guard written <= size else { throw ViridianError(.invalidArgument, "'\(name)' is larger than announced") }
                try handle.write(contentsOf: buffer.readableBytesView)
                pending[id]?.leaseEnds = .now + lease
            }
            try handle.synchronize()
            try handle.close()
            guard written == size else { throw ViridianError(.invalidArgument, "'\(name)' ended after \(written) of \(size) bytes") }
            guard pending[id] != nil else { throw unknown(id) }
            guard rename(partial, path) == 0 else { throw ViridianError(.internalError, "cannot move \(partial) into place") }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        pending[id]?.received.insert(name)
    }

    // MARK: Lease, commit, abort

    /// The source is still there: extend the lease.
    package func keepAlive(_ id: String, peer: String) throws {
        guard pending[id]?.peerName == peer else { throw unknown(id) }
        Failpoints.crash(at: "destination-exit-at-keepalive")
        pending[id]?.leaseEnds = .now + lease
    }

    /// Takes the VM over: only when its memory arrived completely (live). The VM and the move's
    /// committed outcome are stored in one transaction before its processors run here, so a crash
    /// at any point leaves either no VM here (the source keeps it) or the VM here for good (the
    /// source hears "committed" when it asks again, also after this daemon restarts).
    /// Committing again after a lost answer answers the same.
    package func commit(_ id: String, resume: Bool, peer: String) async throws -> IncomingStatus {
        guard let entry = pending[id], entry.peerName == peer, !committing.contains(id) else {
            if pending[id] == nil, try vms.committedMove(id) { return IncomingStatus(state: .committed) }
            if committing.contains(id) { return IncomingStatus(state: .pending) }
            throw unknown(id)
        }
        let missing = Set(entry.uploads.keys).subtracting(entry.received)
        guard missing.isEmpty else {
            throw ViridianError(.invalidState, "the move's files have not all arrived (missing: \(missing.sorted().joined(separator: ", ")))")
        }
        if let client = entry.client {
            // The source sees its stream complete a moment before this end has loaded the last of it.
            var migration = try await client.queryMigrate()
            let deadline = ContinuousClock.now + .seconds(10)
            while migration.status == "active" || migration.status == "device", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
                migration = try await client.queryMigrate()
            }
            guard migration.status == "completed" else {
                throw ViridianError(.invalidState, "the VM's memory has not arrived completely (migration \(migration.status))")
            }
        }
        guard pending[id] != nil else { throw unknown(id) }
        committing.insert(id)
        defer { committing.remove(id) }
        let integration = IntegrationRecord(vmID: entry.record.id, release: nil, agent: nil,
                                            hostItems: entry.request.hostItems, updatedAt: Date())
        do {
            try await vms.storeArrival(entry.record, integration: integration, live: entry.pid != nil, moveID: id,
                                       sourceGeneration: entry.request.generation)
        } catch {
            pending[id] = nil
            entry.marker.discard(entry.paths)
            forgetCreatedDisks(entry.request.includeStorage ? entry.record.configuration.drives.compactMap(\.path) : [])
            await vms.releaseArrival(entry.record.id)
            throw error
        }
        // From here on the VM is this host's.
        pending[id] = nil
        try? FileManager.default.removeItem(atPath: entry.paths.incomingMarker)
        Failpoints.crash(at: "exit-after-commit")
        if let client = entry.client {
            do {
                if resume { try await client.cont() }
                if !entry.exports.isEmpty {
                    for index in entry.exports.keys.sorted() { try await client.blockExportDel(id: "export\(index)") }
                    try await client.nbdServerStop()
                }
            } catch {
                events.record(.error, .migration, vm: entry.record.name,
                              "VM '\(entry.record.name)' is this host's now, but finishing its arrival failed: \(ViridianError.wrapping(error).message)")
            }
            client.close()
        }
        try? FileManager.default.removeItem(atPath: entry.paths.migrationTLSDirectory)
        do {
            _ = try await vms.takeOverArrival(entry.record, workerPID: entry.pid, from: entry.request.sourceHost)
        } catch {
            // The VM stays this host's (stored); its worker could not be followed. Never tell the source otherwise.
            logger.error("cannot take over an arrived worker", metadata: ["vm": "\(entry.record.name)", "error": "\(error)"])
        }
        try Failpoints.fail(at: "destination-lose-commit-reply")
        return IncomingStatus(state: .committed)
    }

    /// Discards a prepared move (the source gave up, or the worker died, or the lease lapsed).
    /// `peer`: the peer asking, which must be the one that prepared the move; nil for this host's own decisions.
    /// A move being committed is past discarding.
    package func abort(_ id: String, reason: String, peer: String? = nil) async {
        guard let entry = pending[id], peer == nil || entry.peerName == peer, !committing.contains(id) else { return }
        pending[id] = nil
        if let client = entry.client {
            try? await client.quit()
            client.close()
        }
        entry.marker.discard(entry.paths)
        forgetCreatedDisks(entry.request.includeStorage ? entry.record.configuration.drives.compactMap(\.path) : [])
        await vms.releaseArrival(entry.record.id)
        events.record(.warning, .migration, vm: entry.record.name,
                      "the move of VM '\(entry.record.name)' from host '\(entry.request.sourceHost)' was abandoned here: \(reason); nothing was kept")
    }

    /// What became of the move `id`: pending while prepared or being committed; committed when the
    /// inventory says so (durable across restarts); otherwise it did not happen here.
    package func status(_ id: String, peer: String) throws -> IncomingStatus {
        if let entry = pending[id], entry.peerName == peer { return IncomingStatus(state: .pending) }
        return IncomingStatus(state: try vms.committedMove(id) ? .committed : .aborted)
    }

    /// Aborts every pending move (daemon shutdown).
    package func abortAll() async {
        for id in pending.keys { await abort(id, reason: "viridiand is stopping") }
    }

    private func watch(_ id: String, client: QMPClient) {
        let events = client.events()
        Task { [weak self] in
            for await _ in events {}
            await self?.workerEnded(id, client: client)
        }
    }

    private func workerEnded(_ id: String, client: QMPClient) async {
        guard let entry = pending[id], entry.client === client else { return }
        await abort(id, reason: "its waiting worker exited")
    }

    private func watchLease(_ id: String) {
        Task { [weak self] in
            while let self, let ends = await self.leaseEnd(id) {
                if ContinuousClock.now >= ends {
                    await self.abort(id, reason: "the source stopped answering for \(self.lease)")
                    return
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func leaseEnd(_ id: String) -> ContinuousClock.Instant? { pending[id]?.leaseEnds }

    private func unknown(_ id: String) -> ViridianError {
        ViridianError(.notFound, "no prepared move with id \(id) (it was abandoned or never existed)")
    }
}
