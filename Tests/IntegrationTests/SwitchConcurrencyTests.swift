import APITypes
import Foundation
import Testing

/// Switch changes take turns: concurrent creates of one name give one switch.
@Suite("Concurrent switch changes", .enabled(if: HostSupport.canBoot && NetworkNamespaces.available,
                                            Comment(rawValue: "\(HostSupport.missing); \(NetworkNamespaces.missing)")))
struct SwitchConcurrencyTests {
    @Test("two concurrent 'switch new' with one name: one succeeds, the other gets 'already exists', the first's bridge stays")
    func concurrentCreate() async throws {
        try await SwitchLab.with(namespaces: 1) { daemon, _ in
            for attempt in 1...4 {
                let name = "race\(attempt)"
                async let first = daemon.cli(["switch", "new", name, "--type", "private"])
                async let second = daemon.cli(["switch", "new", name, "--type", "private"])
                let results = await [first, second]
                #expect(results.filter { $0.exitCode == 0 }.count == 1, "\(results)")
                #expect(results.contains { $0.exitCode == 5 && $0.error.contains("exists already") }, "\(results)")
                let shown = try await daemon.json(VirtualSwitchInfo.self, ["switch", "show", name])
                #expect(shown.status == "Up", "the winner's bridge was not removed by the loser: \(shown.status)")
            }
            let names = try await daemon.json([VirtualSwitchInfo].self, ["switch", "list"]).map(\.name)
            #expect(names.filter { $0.hasPrefix("race") }.sorted() == ["race1", "race2", "race3", "race4"])
        }
    }
}
