import APITypes
import Foundation
import NIOCore
import NIOPosix

/// Picks the destination address a migration stream goes to: the destination's migration
/// networks in their preference order, skipping the ones this host cannot reach, and — among
/// the reachable ones — the one the fewest migrations use now, so simultaneous migrations
/// spread over the networks.
struct NetworkChooser: Sendable {
    /// How long a probe waits for the peer's listener to accept.
    static let probeTimeout = TimeAmount.seconds(2)

    struct Choice: Sendable {
        let endpoint: MigrationEndpoint
        /// More preferred endpoints that could not be reached, and why.
        let skipped: [(MigrationEndpoint, String)]
    }

    /// - Parameters:
    ///   - candidates: the destination's endpoints, most preferred first.
    ///   - listenerPort: the destination's migration listener, which a probe connects to.
    ///   - usage: how many running migrations use each address now.
    static func choose(from candidates: [MigrationEndpoint], listenerPort: Int, usage: [String: Int]) async throws -> Choice {
        var reachable: [(Int, MigrationEndpoint)] = []
        var skipped: [(MigrationEndpoint, String)] = []
        for (rank, candidate) in candidates.enumerated() {
            if let failure = await probe(candidate.address, port: listenerPort) {
                skipped.append((candidate, failure))
            } else {
                reachable.append((rank, candidate))
            }
        }
        guard let best = reachable.min(by: { (usage[$0.1.address, default: 0], $0.0) < (usage[$1.1.address, default: 0], $1.0) }) else {
            let detail = skipped.map { "\($0.0.address): \($0.1)" }.joined(separator: "; ")
            throw ViridianError(.unavailable, "no migration network reaches the destination (\(detail))")
        }
        let passed = skipped.filter { skippedEndpoint in
            candidates.firstIndex(of: skippedEndpoint.0) ?? 0 < best.0
        }
        return Choice(endpoint: best.1, skipped: passed)
    }

    /// nil when a TCP connection to `address:port` opens within the timeout, else why not.
    static func probe(_ address: String, port: Int) async -> String? {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(probeTimeout)
                .connect(host: address, port: port).get()
            try? await channel.close()
            return nil
        } catch {
            return "\(error)".prefix(120).description
        }
    }
}
