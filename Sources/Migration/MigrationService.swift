import APITypes
import Engine
import Foundation
import HostServices
import NIOHTTP1
import Peers
import Storage
import Synchronization

/// Moves VMs: live, offline and with storage to peers (Move-VM), and disks between folders
/// here (Move-VMStorage). Each move is a job that waits for a slot (the host's limits), so
/// moves beyond the limit show as Queued and start in order as slots free.
package final class MigrationService: Sendable {
    package let vms: any DepartureHost & StorageMoveHost
    package let peers: PeerRegistry
    package let jobs: JobManager
    package let events: EventLog
    package let catalog: DiskCatalog
    package let slots: MigrationSlots
    /// Why a running guest must pause while its memory is copied on this host, if it must (see `MemoryCopyRule`).
    package let memoryCopyPauseReason: String?
    /// How many running migrations send to each destination address, to spread them over networks.
    private let addressUsage = Mutex<[String: Int]>([:])
    /// The last drain: its job and its moves.
    package let drains = Mutex<(job: String?, moves: [String])>((nil, []))

    package init(vms: any DepartureHost & StorageMoveHost, peers: PeerRegistry, jobs: JobManager, events: EventLog, catalog: DiskCatalog,
                 settings: HostSettingsStore, memoryCopyPauseReason: String?) {
        self.vms = vms
        self.memoryCopyPauseReason = memoryCopyPauseReason
        self.peers = peers
        self.jobs = jobs
        self.events = events
        self.catalog = catalog
        slots = MigrationSlots { pool in
            switch pool {
            case .live: settings.settings.maxMigrations
            case .storage: settings.settings.maxStorageMigrations
            }
        }
    }

    /// Starts moving a VM to a peer (`viridian vm move`). Refuses at once what can never work.
    package func move(_ name: String, _ request: MoveVMRequest) async throws -> JobInfo {
        let peer = try peers.peer(request.destination)
        try Self.validate(request)
        let vm = try await vms.checkMovable(name)
        if vm.shielded, request.includeStorage {
            throw ViridianError(.invalidState, "VM '\(vm.name)' is shielded; a move with its storage is not possible for a shielded VM yet "
                                + "(its disks would be copied unencrypted); move it with shared storage, without --include-storage")
        }
        return jobs.start(kind: "vm.move", vm: vm.name, description: "Moving \(vm.name) to \(peer.record.name)", queued: true) { progress in
            try await self.slots.withSlot(.live) {
                progress.started()
                return try await self.perform(name: vm.name, peer: peer, request: request, progress: progress)
            }
        }
    }

    package static func validate(_ request: MoveVMRequest) throws {
        if let channels = request.channels, !(1...16).contains(channels) {
            throw ViridianError(.invalidArgument, "--channels must be 1 to 16, not \(channels)")
        }
        if let bandwidth = request.bandwidthMiBps, !(1...1_000_000).contains(bandwidth) {
            throw ViridianError(.invalidArgument, "--bandwidth must be 1 to 1000000 MiB/s, not \(bandwidth)")
        }
        if let downtime = request.downtimeMilliseconds, !(1...60_000).contains(downtime) {
            throw ViridianError(.invalidArgument, "--downtime must be 1 to 60000 ms, not \(downtime)")
        }
        if let path = request.destinationPath {
            guard request.includeStorage else {
                throw ViridianError(.invalidArgument, "--destination-path needs --include-storage (without it the disks stay where they are)")
            }
            guard path.hasPrefix("/") else { throw ViridianError(.invalidArgument, "--destination-path must be absolute: '\(path)'") }
        }
    }

    private func perform(name: String, peer: PeerRegistry.Peer, request: MoveVMRequest, progress: JobProgress) async throws -> String {
        let client = try peers.client(peer)
        let departing = try await vms.beginDeparture(name, to: peer.record.name, jobID: progress.jobID)
        let planID = Mutex<String?>(nil)
        let started = ContinuousClock.now
        do {
            progress.report(1, "asking \(peer.record.name) to prepare")
            // The hello runs beside the preparation of a live move (the destination checks the same
            // again while it prepares); an offline move hears it first, before its disks are flattened.
            let hello = Task { try await client.call(.GET, "/peer/v1/host", as: PeerHello.self) }
            defer { hello.cancel() }
            if departing.client == nil { try Self.check(try await hello.value, fits: departing, peer: peer.record.name) }
            let uploads = departing.client == nil ? try await offlineFiles(departing, includeStorage: request.includeStorage, progress: progress) : [:]
            defer { for (name, file) in uploads where name != IncomingFile.savedState { try? FileManager.default.removeItem(atPath: file.path) } }
            let incoming = try await incomingRequest(departing, request, files: uploads.map { IncomingFile(name: $0.key, size: $0.value.size) })
            let preparation: Result<IncomingPlan, any Error>
            do {
                preparation = .success(try await client.call(.POST, "/peer/v1/incoming", body: incoming, timeout: .seconds(120)))
            } catch {
                preparation = .failure(error)
            }
            do {
                try Self.check(try await hello.value, fits: departing, peer: peer.record.name)
            } catch {
                // The hello's refusal names the reason best (another protocol version, too little memory); a
                // prepared move is let go at once (its lease would discard it too).
                if case .success(let plan) = preparation { try? await client.discard(plan.id) }
                throw error
            }
            let plan = try preparation.get()
            planID.withLock { $0 = plan.id }
            try await vms.noteMovePlan(departing.record.id, moveID: plan.id)
            Failpoints.crash(at: "source-exit-after-plan")
            let prepared = ContinuousClock.now - started
            let copied = request.includeStorage ? plan.diskPaths.keys.compactMap { departing.record.configuration.drives[$0].path } : []
            guard let worker = departing.client else {
                try await upload(uploads, to: client, plan: plan.id, progress: progress)
                try await vms.markCommitting(departing.record.id)
                try await Handover(peer: client).commit(plan.id, resume: false)
                await vms.departed(departing, to: peer.record.name, deleting: copied)
                return "moved to \(peer.record.name) (the VM was \(departing.previousState.rawValue))"
            }
            let result = try await withKeepalive(client, plan.id) {
                try await self.overBestNetwork(plan, peer: peer, vm: name) { endpoint in
                    try await LiveMove(departing: departing, client: worker, identity: self.peers.identity, peer: peer, plan: plan,
                                       request: request, tuning: incoming.tuning, endpoint: endpoint,
                                       pauseReason: self.memoryCopyPauseReason, progress: progress).run()
                }
            }
            progress.report(98, "handing the VM over to \(peer.record.name)")
            let handoverStarted = ContinuousClock.now
            try await vms.markCommitting(departing.record.id)
            try await Handover(peer: client).commit(plan.id, resume: departing.previousState == .running)
            Failpoints.crash(at: "source-exit-after-commit")
            let handover = ContinuousClock.now - handoverStarted
            await vms.departed(departing, to: peer.record.name, deleting: copied)
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let summary = String(format: "live migration to %@ took %.2f s (preparing %d ms, streaming %@ ms, downtime %@ ms + handover %d ms, %@ sent via %@)",
                                 peer.record.name, seconds, Self.milliseconds(prepared), result.totalMilliseconds.map(String.init) ?? "?",
                                 result.downtimeMilliseconds.map(String.init) ?? "?", Self.milliseconds(handover),
                                 ByteSize.format(UInt64(max(0, result.transferredBytes))), result.endpoint.address)
                + (memoryCopyPauseReason.map { "; the guest was paused while its memory was copied: \($0)" } ?? "")
            events.record(.information, .migration, vm: name, "VM '\(name)': \(summary)")
            return summary
        } catch {
            let id = planID.withLock { $0 }
            if let undecided = error as? MoveOutcomeUnknown {
                await uncancelled {
                    await self.vms.departureFailed(departing, outcomeKnown: false)
                    do {
                        await self.settleInBackground(try await self.vms.ownershipRecord(departing.record.id), departing)
                    } catch {
                        self.events.record(.error, .migration, vm: name, "cannot read the ownership of VM '\(name)' to settle its handover "
                                           + "(\(ViridianError.wrapping(error).message)); it stays paused and is settled when viridiand restarts")
                    }
                }
                events.record(.error, .migration, vm: name,
                              "the move of VM '\(name)' to '\(peer.record.name)' has no known outcome (\(undecided.reason)); the VM stays paused "
                              + "here so that it never runs twice: if '\(peer.record.name)' lists it, remove it here, else resume it here")
                throw ViridianError(.notResponding, "host '\(peer.record.name)' did not say whether it took VM '\(name)' over (\(undecided.reason)); "
                                    + "the VM stays paused on this host until you check '\(peer.record.name)'")
            }
            await uncancelled {
                // Best effort: a destination that does not hear this discards the move when its lease lapses.
                if let id { try? await client.discard(id) }
                await self.vms.departureFailed(departing)
            }
            let reason = ViridianError.wrapping(error)
            events.record(reason.code == .cancelled ? .warning : .error, .migration, vm: name,
                          "the move of VM '\(name)' to '\(peer.record.name)' did not happen (\(reason.message)); the VM stays on this host")
            throw error
        }
    }

    /// Refuses early when the peer lacks memory or a switch the VM uses.
    package static func check(_ hello: PeerHello, fits departing: DepartingVM, peer: String) throws {
        try PeerProtocol.requireCompatible(hello, peer: peer)
        let configuration = departing.record.configuration
        guard configuration.memoryMiB <= hello.availableMemoryMiB else {
            throw ViridianError(.conflict, "host '\(peer)' has \(max(0, hello.availableMemoryMiB)) MiB left for VMs; VM '\(departing.record.name)' needs \(configuration.memoryMiB) MiB")
        }
        let peerSwitches = Set(hello.switches.map { $0.lowercased() })
        for adapter in configuration.networkAdapters where !peerSwitches.contains(adapter.switchName.lowercased()) {
            throw ViridianError(.conflict, "host '\(peer)' has no virtual switch '\(adapter.switchName)', which VM '\(departing.record.name)' uses")
        }
        guard configuration.processorCount <= hello.logicalProcessors else {
            throw ViridianError(.conflict, "host '\(peer)' has \(hello.logicalProcessors) logical processors; VM '\(departing.record.name)' has \(configuration.processorCount)")
        }
    }

    private func incomingRequest(_ departing: DepartingVM, _ request: MoveVMRequest, files: [IncomingFile]) async throws -> IncomingRequest {
        var disksToCopy: [IncomingDisk] = []
        var diskImages: [DiskImage] = []
        for (index, drive) in departing.record.configuration.drives.enumerated() where drive.kind == .hardDisk {
            guard let path = drive.path else { continue }
            let chain = try catalog.recordedChain(path)
            diskImages += chain
            guard request.includeStorage, let image = chain.first else { continue }
            let info = try await catalog.tool.info(image)
            var allocated: Int64 = 0
            for file in chain {
                allocated += Int64((try await catalog.tool.info(file)).fileSizeBytes)
            }
            disksToCopy.append(IncomingDisk(driveIndex: index, format: info.format.rawValue,
                                            virtualSize: Int64(info.sizeBytes), allocatedBytes: allocated))
        }
        let nvram = departing.record.configuration.generation == .two
            ? FileManager.default.contents(atPath: departing.paths.nvram) : nil
        return IncomingRequest(protocolVersion: PeerProtocol.version, sourceHost: peers.identity.hostName, vm: MovingVM(departing.record),
                               hostItems: departing.integration.hostItems,
                               mode: departing.client == nil ? .offline : .live, includeStorage: request.includeStorage,
                               destinationPath: request.destinationPath, disks: disksToCopy, nvram: nvram,
                               tpmState: FileManager.default.contents(atPath: departing.paths.tpmState),
                               shieldingKey: departing.record.configuration.shielded ? try ShieldingKey.read(departing.paths) : nil,
                               tuning: MigrationTuning(channels: request.channels ?? 1, compression: request.compression ?? .none),
                               files: files,
                               consoleLog: (try? await vms.consoleLog(departing.record.name, lastBytes: IncomingRequest.consoleLogLimit)).map { Data($0) },
                               diskImages: diskImages, generation: departing.generation)
    }


    /// What an offline move uploads: a Saved VM's state, and with storage each disk flattened
    /// (its parents folded in) into a file beside the VM. Returns name → (path, size).
    private func offlineFiles(_ departing: DepartingVM, includeStorage: Bool,
                              progress: JobProgress) async throws -> [String: (path: String, size: Int64)] {
        var files: [String: (path: String, size: Int64)] = [:]
        if departing.previousState == .saved {
            files[IncomingFile.savedState] = (departing.paths.savedState, Self.size(departing.paths.savedState))
        }
        guard includeStorage else { return files }
        do {
            for (index, drive) in departing.record.configuration.drives.enumerated() where drive.kind == .hardDisk {
                guard let path = drive.path else { continue }
                let chain = try catalog.recordedChain(path)
                let format = chain[0].format
                let flat = "\(departing.paths.vmDirectory)/moving-disk-\(index).\(format == .raw ? "img" : format.rawValue)"
                try? FileManager.default.removeItem(atPath: flat)
                progress.report(2, "preparing \(path) for the move")
                try await catalog.tool.convert(chain: chain, destinationPath: flat, format: format, type: .dynamic) { percent in
                    progress.report(2 + percent / 5, "preparing \(path) for the move")
                }
                files[IncomingFile.disk(index)] = (flat, Self.size(flat))
            }
        } catch {
            for (name, file) in files where name != IncomingFile.savedState { try? FileManager.default.removeItem(atPath: file.path) }
            throw error
        }
        return files
    }

    private func upload(_ files: [String: (path: String, size: Int64)], to client: PeerClient, plan id: String,
                        progress: JobProgress) async throws {
        let total = max(1, files.values.map(\.size).reduce(0, +))
        var done: Int64 = 0
        for (name, file) in files.sorted(by: { $0.key < $1.key }) {
            let before = done
            try await client.upload("/peer/v1/incoming/\(id)/files/\(name)", file: file.path, size: file.size) { sent in
                progress.report(25 + Int((before + sent) * 70 / total),
                                "sending \(name): \(ByteSize.format(UInt64(before + sent))) of \(ByteSize.format(UInt64(total)))")
            }
            done += file.size
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Runs `body` while telling the destination every few seconds that this host is still there;
    /// gives up the move when the destination stops answering.
    private func withKeepalive<T: Sendable>(_ client: PeerClient, _ id: String,
                                            _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                var failures = 0
                while true {
                    try await Task.sleep(for: .seconds(3))
                    do {
                        let _: IncomingStatus = try await client.call(.POST, "/peer/v1/incoming/\(id)/keepalive", timeout: .seconds(5))
                        failures = 0
                    } catch let error as ViridianError {
                        failures += 1
                        if error.code == .notFound || failures >= 2 {
                            throw ViridianError(.notResponding, "lost contact with the destination: \(error.message)")
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw ViridianError(.internalError, "the move ended without a result")
            }
            return value
        }
    }

    /// Picks the destination address for a stream and counts it as used until `body` ends; the
    /// choice and the count happen together, so moves starting at once spread over the networks.
    private func overBestNetwork<T: Sendable>(_ plan: IncomingPlan, peer: PeerRegistry.Peer, vm: String,
                                             _ body: (MigrationEndpoint) async throws -> T) async throws -> T {
        let candidates = plan.endpoints.isEmpty ? [MigrationEndpoint(address: peer.endpoint.host, network: nil)] : plan.endpoints
        let probe = await NetworkChooser.probe(candidates, listenerPort: peer.endpoint.port)
        let picked = addressUsage.withLock { usage -> (MigrationEndpoint, skipped: [(MigrationEndpoint, String)])? in
            guard let best = probe.best(usage: usage) else { return nil }
            usage[best.0.address, default: 0] += 1
            return best
        }
        guard let (endpoint, skipped) = picked else {
            let detail = probe.unreachable.map { "\($0.0.address): \($0.1)" }.joined(separator: "; ")
            throw ViridianError(.notResponding, "no migration network reaches '\(peer.record.name)' (\(detail))")
        }
        defer { addressUsage.withLock { $0[endpoint.address, default: 0] -= 1 } }
        for (unreachable, reason) in skipped {
            events.record(.warning, .migration, vm: vm,
                          "migration network \(unreachable.network ?? unreachable.address) to '\(peer.record.name)' is unreachable (\(unreachable.address): \(reason)); using \(endpoint.address)\(endpoint.network.map { " on \($0)" } ?? "")")
        }
        return try await body(endpoint)
    }
}

/// `POST /peer/v1/incoming/{id}/commit`: the source's memory stream completed; take the VM over.
package struct CommitRequest: Codable, Sendable {
    /// Let the processors run (they ran on the source).
    package var resume: Bool
}
