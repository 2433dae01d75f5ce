import APITypes
import Foundation
import Testing

@Suite("Migration networks between hosts in network namespaces",
       .enabled(if: HostSupport.canBoot && AgentBundles.available && NetworkNamespaces.available,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing); \(NetworkNamespaces.missing)")))
struct MigrationNetworkTests {
    @Test("the preferred network carries moves, simultaneous moves spread, a cut network falls back, a cut link keeps the VM at home", .guests(2))
    func preferenceFallbackAndCutLink() async throws {
        try await NetworkNamespaces.with(count: 2) { net in
            try await net.link(0, 1, name: "m", prefix: "10.77.0")
            try await net.link(0, 1, name: "p", prefix: "10.77.1")
            try await net.link(0, 1, name: "s", prefix: "10.77.2")
            try await TestHosts.with(count: 2, namespaces: net.names, listenAddresses: ["10.77.0.1", "10.77.0.2"]) { hosts in
                let (first, second) = (hosts[0], hosts[1])
                for host in [first, second] {
                    let set = await host.cli(["host", "set", "--migration-networks", "10.77.1.0/24,10.77.2.0/24"])
                    #expect(set.exitCode == 0, "\(set.error)")
                }
                for name in ["nw1", "nw2"] {
                    try await first.createTestVM(name)
                    #expect(await first.cli(["vm", "start", name]).exitCode == 0)
                }
                for name in ["nw1", "nw2"] { try await first.waitForIntegration(name) }

                // One move: over the preferred network, with two channels and compression.
                let preferredBefore = await net.receivedBytes(1, link: "p", side: "b")
                let move = await first.cli(["vm", "move", "nw1", "--to", "host-2", "--channels", "2", "--compression", "zstd"])
                #expect(move.exitCode == 0 && move.output.contains("via 10.77.1.2"), "\(move)")
                #expect(await net.receivedBytes(1, link: "p", side: "b") - preferredBefore > 10 << 20)

                // Two at once from the same host: one on each network.
                #expect(await second.cli(["vm", "move", "nw1", "--to", "host-1"]).exitCode == 0)
                var jobs: [String] = []
                for name in ["nw1", "nw2"] {
                    let started = await first.cli(["vm", "move", name, "--to", "host-2", "--bandwidth", "40", "--no-wait"])
                    try #require(started.exitCode == 0, "\(started.error)")
                    jobs.append(started.output.trimmingWhitespace())
                }
                var messages: [String] = []
                for job in jobs {
                    let finished = try await first.waitForJob(job)
                    #expect(finished.state == .completed, "\(finished)")
                    messages.append(finished.statusMessage ?? "")
                }
                #expect(messages.contains { $0.contains("via 10.77.1.2") } && messages.contains { $0.contains("via 10.77.2.2") }, "\(messages)")

                // The preferred network is cut on the source's side: the next move takes the other, and the event log says so.
                try await net.set(1, link: "p", side: "b", up: false)
                let fallback = await second.cli(["vm", "move", "nw1", "--to", "host-1"])
                #expect(fallback.exitCode == 0 && fallback.output.contains("via 10.77.2.1"), "\(fallback)")
                let events = await second.cli(["events", "--vm", "nw1"]).output
                #expect(events.contains("migration network 10.77.1.0/24 to 'host-1' is unreachable"), "\(events)")

                // The last network is cut mid-stream: the move fails, the VM keeps running where it was.
                let slow = await first.cli(["vm", "move", "nw1", "--to", "host-2", "--bandwidth", "2", "--no-wait"])
                let slowJob = slow.output.trimmingWhitespace()
                try await eventually("the memory stream runs") {
                    (try? await first.client.job(slowJob))?.statusMessage?.contains("memory:") == true
                }
                try await net.set(1, link: "s", side: "b", up: false)
                let cut = try await first.waitForJob(slowJob)
                #expect(cut.state == .failed && cut.error?.message.contains("no progress") == true, "\(cut)")
                #expect(await first.state(of: "nw1") == .running)
                try await first.waitForIntegration("nw1", timeout: .seconds(30))
                #expect(await first.exec("nw1", ["true"]).exitCode == 0)
                #expect(await second.state(of: "nw1") == nil)
                try await eventually("the destination cleaned up") { second.runtimeFolders.count == 1 }
            }
        }
    }
}
