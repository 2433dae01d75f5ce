import APITypes
import Foundation
import HostServices
import Peers

extension MigrationService {
    /// Moves every Running, Paused and Off VM to the peers for maintenance (`viridian host drain`).
    /// Each VM goes to the peer with the most memory left at that moment; the moves queue behind
    /// the host's migration limit like any other.
    package func drain(_ request: DrainRequest) async throws -> JobInfo {
        let targets = try (request.peers ?? peers.all().map(\.record.name)).map { try peers.peer($0) }
        guard !targets.isEmpty else {
            throw ViridianError(.invalidState, "this host has no peers to drain to (add one with: viridian host peer add)")
        }
        if let running = drains.withLock({ $0.job }), (try? jobs.job(id: running))?.state.isFinished == false {
            throw ViridianError(.conflict, "a drain is already running (job \(running)); see: viridian host drain --status")
        }
        let job = jobs.start(kind: "host.drain", vm: nil, description: "Draining \(peers.identity.hostName)") { progress in
            try await self.runDrain(to: targets, progress: progress)
        }
        drains.withLock { $0 = (job.id, []) }
        return job
    }

    package func drainStatus() -> DrainStatus {
        let (job, moves) = drains.withLock { $0 }
        return DrainStatus(job: job.flatMap { try? jobs.job(id: $0) }, moves: moves.compactMap { try? jobs.job(id: $0) })
    }

    private func runDrain(to targets: [PeerRegistry.Peer], progress: JobProgress) async throws -> String {
        let candidates = await vms.list().filter { [.running, .paused, .off].contains($0.state) }
        guard !candidates.isEmpty else { return "no VMs to move" }
        var assigned: [String: Int] = [:]
        var free: [String: Int] = [:]
        for peer in targets {
            let hello: PeerHello? = try? await peers.client(peer).call(.GET, "/peer/v1/host", timeout: .seconds(10))
            free[peer.record.name] = hello?.availableMemoryMiB ?? -1
        }
        var started: [JobInfo] = []
        var refused: [String] = []
        for vm in candidates.sorted(by: { $0.memoryMiB > $1.memoryMiB }) {
            guard let target = targets.max(by: { (free[$0.record.name] ?? -1) < (free[$1.record.name] ?? -1) }),
                  (free[target.record.name] ?? -1) >= vm.memoryMiB else {
                refused.append("\(vm.name): no peer has \(vm.memoryMiB) MiB free")
                continue
            }
            free[target.record.name, default: 0] -= vm.state == .off ? 0 : vm.memoryMiB
            assigned[target.record.name, default: 0] += 1
            do {
                let job = try await move(vm.name, MoveVMRequest(destination: target.record.name))
                started.append(job)
                drains.withLock { $0.moves.append(job.id) }
            } catch {
                refused.append("\(vm.name): \(ViridianError.wrapping(error).message)")
            }
        }
        var failed = refused
        var finished = 0
        for job in started {
            while true {
                let current = try jobs.job(id: job.id)
                if current.state.isFinished {
                    if current.state != .completed { failed.append("\(current.vm ?? "?"): \(current.error?.message ?? current.state.rawValue)") }
                    break
                }
                if Task.isCancelled {
                    for pending in started { _ = try? jobs.cancel(id: pending.id) }
                    throw CancellationError()
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
            finished += 1
            progress.report(finished * 100 / max(1, started.count), "\(finished) of \(started.count) moves finished")
        }
        let spread = assigned.sorted { $0.key < $1.key }.map { "\($0.value) to \($0.key)" }.joined(separator: ", ")
        guard failed.isEmpty else {
            let moved = started.count - (failed.count - refused.count)
            throw ViridianError(.engineFailure, "\(moved) of \(candidates.count) VMs moved; not moved: \(failed.joined(separator: "; "))")
        }
        return "moved \(started.count) VM\(started.count == 1 ? "" : "s") (\(spread))"
    }
}
