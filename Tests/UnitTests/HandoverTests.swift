import APITypes
import Foundation
@testable import HostServices
import Inventory
import Logging
@testable import Migration
@testable import Peers
import Storage
import Synchronization
import Testing

/// The exactly-once handover rules against fakes: the source's commit and settling with a
/// scripted destination, and the destination's prepare/commit/status against a fake VM host.
@Suite("Handover protocol")
struct HandoverTests {
    /// A destination whose answers the test scripts, one per call; `nil` is a lost answer.
    final class ScriptedPeer: HandoverPeer {
        private let script: Mutex<(commits: [IncomingState?], statuses: [IncomingState?], calls: [String])>

        init(commits: [IncomingState?], statuses: [IncomingState?]) {
            script = Mutex((commits, statuses, []))
        }

        var calls: [String] { script.withLock { $0.calls } }

        func commit(_ moveID: String, resume: Bool) async throws -> IncomingStatus {
            try answer { script in script.calls.append("commit"); return script.commits.isEmpty ? nil : script.commits.removeFirst() }
        }

        func status(_ moveID: String) async throws -> IncomingStatus {
            try answer { script in script.calls.append("status"); return script.statuses.isEmpty ? nil : script.statuses.removeFirst() }
        }

        func discard(_ moveID: String) async throws {
            script.withLock { $0.calls.append("discard") }
        }

        private func answer(_ next: (inout (commits: [IncomingState?], statuses: [IncomingState?], calls: [String])) -> IncomingState??) throws -> IncomingStatus {
            guard let state = script.withLock({ next(&$0) }) ?? nil else {
                throw ViridianError(.notResponding, "the answer was lost")
            }
            return IncomingStatus(state: state)
        }
    }

    /// A handover whose outcome wait only bounds a test that would otherwise hang: a script that
    /// reaches an outcome must reach it however slowly a loaded machine runs the retries (CI once
    /// took over 5 s for three 10 ms retries while the whole suite was starting).
    private func handover(_ peer: ScriptedPeer, outcomeWait: Duration = .seconds(120)) -> Handover {
        Handover(peer: peer, outcomeWait: outcomeWait, retry: .milliseconds(10))
    }

    @Test("a commit answered 'committed' is done without asking again")
    func committed() async throws {
        let peer = ScriptedPeer(commits: [.committed], statuses: [])
        try await handover(peer).commit("m", resume: true)
        #expect(peer.calls == ["commit"])
    }

    @Test("a lost commit answer is followed by asking: 'committed' means the destination has the VM")
    func lostAnswerThenCommitted() async throws {
        let peer = ScriptedPeer(commits: [nil], statuses: [nil, .pending, .committed])
        try await handover(peer).commit("m", resume: true)
        #expect(peer.calls == ["commit", "status", "status", "status"])
    }

    @Test("an error answer is not a refusal: only the recorded outcome decides (the bug: a 5xx resumed the source)")
    func errorAnswerIsNotRefusal() async throws {
        let peer = ScriptedPeer(commits: [nil], statuses: [.committed])
        try await handover(peer).commit("m", resume: false)
        #expect(peer.calls == ["commit", "status"])
    }

    @Test("'did not happen', to the commit or when asked, lets the source keep the VM")
    func refused() async throws {
        for peer in [ScriptedPeer(commits: [.aborted], statuses: []), ScriptedPeer(commits: [nil], statuses: [.pending, .aborted])] {
            await #expect(throws: ViridianError.self) { try await handover(peer).commit("m", resume: true) }
            #expect(!peer.calls.isEmpty)
        }
    }

    @Test("no outcome within the wait: the outcome is unknown, never a failure the source may resume from")
    func unknownOutcome() async throws {
        let peer = ScriptedPeer(commits: [.pending], statuses: [])
        await #expect(throws: MoveOutcomeUnknown.self) { try await handover(peer, outcomeWait: .milliseconds(100)).commit("m", resume: true) }
    }

    @Test("settling asks until the destination answers, and warns once while it cannot")
    func settle() async throws {
        let warnings = Mutex(0)
        let tookOver = await handover(ScriptedPeer(commits: [], statuses: [nil, nil, .pending, .committed]))
            .settle("m") { _ in warnings.withLock { $0 += 1 } }
        #expect(tookOver == .tookOver)
        #expect(warnings.withLock { $0 } == 1)
        let stayed = await handover(ScriptedPeer(commits: [], statuses: [.aborted])).settle("m") { _ in }
        #expect(stayed == .stayedHere)
    }

    // MARK: Destination side

    /// The VM host of a destination: holds places, stores arrivals, and answers from what it stored.
    final class FakeArrivalHost: ArrivalHost {
        struct State {
            var reserved: Set<String> = []
            var released: [String] = []
            var stored: [String: Int64] = [:]
            var committedMoves: Set<String> = []
            var failStore = false
        }
        let state = Mutex(State())
        let releases: AsyncStream<String>
        private let releaseContinuation: AsyncStream<String>.Continuation

        init() { (releases, releaseContinuation) = AsyncStream.makeStream() }

        func machineTypeRefusal(_ configuration: VMConfiguration) -> String? { nil }
        func reserveArrival(_ record: VMRecord, from source: String, arriving: Set<String>) async throws {
            try state.withLock { state in
                guard state.reserved.insert(record.id).inserted else { throw ViridianError(.alreadyExists, "already arriving") }
            }
        }
        func releaseArrival(_ id: String) async {
            state.withLock { state in
                state.reserved.remove(id)
                state.released.append(id)
            }
            releaseContinuation.yield(id)
        }
        func launchArrivalWorker(_ record: VMRecord, tlsDirectory: String) async throws -> Int32 {
            throw ViridianError(.internalError, "offline moves launch no worker")
        }
        func storeArrival(_ record: VMRecord, integration: IntegrationRecord, live: Bool, moveID: String, sourceGeneration: Int64?) async throws {
            try state.withLock { state in
                if state.failStore { throw ViridianError(.internalError, "the disk is full") }
                state.stored[record.id] = (sourceGeneration ?? 0) + 1
                state.committedMoves.insert(moveID)
                state.reserved.remove(record.id)
            }
        }
        func committedMove(_ id: String) throws -> Bool { state.withLock { $0.committedMoves.contains(id) } }
        func takeOverArrival(_ record: VMRecord, workerPID: Int32?, from source: String) async throws -> VMInfo {
            throw ViridianError(.internalError, "not needed: the handover answers before the take-over's result matters")
        }
    }

    /// A destination's incoming side on a scratch inventory, with `host` as its VM host.
    struct Destination {
        let incoming: IncomingMigrations
        let peer: PeerRegistry.Peer
        let folder: String

        init(host: FakeArrivalHost, lease: Duration = .seconds(60)) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("handover-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let inventory = try Inventory(path: "\(folder)/inventory.sqlite")
            let identity = try HostIdentity.load(directory: "\(folder)/identity", hostName: "destination")
            let source = try HostIdentity.load(directory: "\(folder)/source", hostName: "source")
            peer = PeerRegistry.Peer(record: PeerRecord(name: "source", address: "192.0.2.1:7600", certificate: source.authorityPEM, addedAt: Date()),
                                     authority: try PeerAuthority(pem: source.authorityPEM))
            let feed = LiveFeed()
            incoming = IncomingMigrations(vms: host, peers: try PeerRegistry(inventory: inventory, identity: identity),
                                          settings: try HostSettingsStore(inventory: inventory),
                                          catalog: DiskCatalog(tool: try DiskImageTool(), inventory: inventory),
                                          events: EventLog(inventory: inventory, logger: Logger(label: "handover-test"), feed: feed),
                                          stateDirectory: "\(folder)/state", logger: Logger(label: "handover-test"), lease: lease)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// An Off VM without disks, as a source sends it.
    static func offlineRequest(generation: Int64 = 4) -> IncomingRequest {
        let record = VMRecord(id: UUID().uuidString.lowercased(), name: "moving", state: .off,
                              configuration: VMConfiguration(generation: .two, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                                             drives: [], networkAdapters: [], bootOrder: [.hardDisk]),
                              notes: "", image: nil, createdAt: Date(), startedAt: nil)
        return IncomingRequest(protocolVersion: PeerProtocol.version, sourceHost: "source", vm: MovingVM(record), hostItems: [:], mode: .offline,
                               includeStorage: false, destinationPath: nil, disks: [], nvram: nil,
                               tuning: MigrationTuning(channels: 1, compression: .none), files: [], consoleLog: nil, diskImages: [],
                               generation: generation)
    }

    @Test("commit stores the VM with the next generation once; a repeated commit and status answer 'committed' from what is stored")
    func destinationCommitIsDurableAndIdempotent() async throws {
        let host = FakeArrivalHost()
        let destination = try Destination(host: host)
        defer { destination.remove() }
        let request = Self.offlineRequest(generation: 4)
        let plan = try await destination.incoming.prepare(request, from: destination.peer)
        #expect(try await destination.incoming.status(plan.id, peer: "source").state == .pending)
        #expect(try await destination.incoming.commit(plan.id, resume: false, peer: "source").state == .committed)
        #expect(host.state.withLock { $0.stored } == [request.vm.id: 5], "the arrival has the source's generation + 1")
        #expect(try await destination.incoming.commit(plan.id, resume: false, peer: "source").state == .committed,
                "a source that lost the answer and commits again hears the same")
        #expect(host.state.withLock { $0.stored.count } == 1)
        #expect(try await destination.incoming.status(plan.id, peer: "source").state == .committed)

        let restarted = try Destination(host: host)
        defer { restarted.remove() }
        #expect(try await restarted.incoming.status(plan.id, peer: "source").state == .committed,
                "after a restart the outcome comes from what was persisted")
    }

    @Test("a move that failed to store, was discarded, or came from another peer is never 'committed'")
    func destinationRefusals() async throws {
        let host = FakeArrivalHost()
        let destination = try Destination(host: host)
        defer { destination.remove() }

        host.state.withLock { $0.failStore = true }
        let failing = try await destination.incoming.prepare(Self.offlineRequest(), from: destination.peer)
        await #expect(throws: ViridianError.self) { try await destination.incoming.commit(failing.id, resume: false, peer: "source") }
        #expect(try await destination.incoming.status(failing.id, peer: "source").state == .aborted)
        #expect(host.state.withLock { $0.released.count } == 1, "the place is given back")
        host.state.withLock { $0.failStore = false }

        let discarded = try await destination.incoming.prepare(Self.offlineRequest(), from: destination.peer)
        await #expect(throws: ViridianError.self, "only the peer that prepared a move may commit it") {
            try await destination.incoming.commit(discarded.id, resume: false, peer: "intruder")
        }
        await destination.incoming.abort(discarded.id, reason: "the source gave up", peer: "source")
        #expect(try await destination.incoming.status(discarded.id, peer: "source").state == .aborted)
        await #expect(throws: ViridianError.self) { try await destination.incoming.commit(discarded.id, resume: false, peer: "source") }
        #expect(host.state.withLock { $0.stored.isEmpty })

        var old = Self.offlineRequest()
        old.protocolVersion = PeerProtocol.version - 1
        await #expect(throws: ViridianError.self, "a source on another host protocol is refused") {
            try await destination.incoming.prepare(old, from: destination.peer)
        }
    }

    @Test("a prepared move whose source stops calling is discarded when its lease lapses")
    func destinationLeaseLapses() async throws {
        let host = FakeArrivalHost()
        let destination = try Destination(host: host, lease: .milliseconds(300))
        defer { destination.remove() }
        let plan = try await destination.incoming.prepare(Self.offlineRequest(), from: destination.peer)
        let released = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { await host.releases.first { _ in true } }
            group.addTask { try await Task.sleep(for: .seconds(30)); return nil }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        #expect(released != nil, "the lease watcher discards the move within 30 s of a 300 ms lease")
        #expect(try await destination.incoming.status(plan.id, peer: "source").state == .aborted)
    }
}
