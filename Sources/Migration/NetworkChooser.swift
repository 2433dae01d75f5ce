import APITypes
import Foundation
import NIOCore
import NIOPosix

/// Picks the destination address a migration stream goes to: the destination's migration
/// networks in their preference order, skipping the ones this host cannot reach, and — among
/// the reachable ones — the one the fewest migrations use now, so simultaneous migrations
/// spread over the networks.
package struct NetworkChooser: Sendable {
    /// How long a probe waits for the peer's listener to accept.
    package static let probeTimeout = TimeAmount.seconds(2)

    /// The candidates this host can reach, most preferred first, and those it cannot, with why.
    package struct Probe: Sendable {
        package let reachable: [MigrationEndpoint]
        package let unreachable: [(MigrationEndpoint, String)]

        /// The reachable endpoint the fewest migrations use now (the most preferred among equals),
        /// and the more preferred endpoints that were unreachable.
        package func best(usage: [String: Int]) -> (MigrationEndpoint, skipped: [(MigrationEndpoint, String)])? {
            guard let chosen = reachable.enumerated().min(by: {
                (usage[$0.element.address, default: 0], $0.offset) < (usage[$1.element.address, default: 0], $1.offset)
            })?.element else { return nil }
            let rank = order.firstIndex(of: chosen) ?? 0
            return (chosen, unreachable.filter { (order.firstIndex(of: $0.0) ?? 0) < rank })
        }

        fileprivate let order: [MigrationEndpoint]
    }

    /// Probes each candidate (the destination's endpoints, most preferred first) at the destination's
    /// migration listener port.
    package static func probe(_ candidates: [MigrationEndpoint], listenerPort: Int) async -> Probe {
        var reachable: [MigrationEndpoint] = []
        var unreachable: [(MigrationEndpoint, String)] = []
        for candidate in candidates {
            if let failure = await probe(candidate.address, port: listenerPort) {
                unreachable.append((candidate, failure))
            } else {
                reachable.append(candidate)
            }
        }
        return Probe(reachable: reachable, unreachable: unreachable, order: candidates)
    }

    /// nil when a TCP connection to `address:port` opens within the timeout, else why not.
    package static func probe(_ address: String, port: Int) async -> String? {
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
