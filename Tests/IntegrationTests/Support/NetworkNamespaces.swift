import APITypes
import Foundation
import Testing

/// Network namespaces joined by veth links, made for one test and deleted after it.
final class NetworkNamespaces: @unchecked Sendable {
    static let ip = "/usr/sbin/ip"
    static let available = getuid() == 0 && FileManager.default.isExecutableFile(atPath: ip)
    static let missing = "needs root and iproute2 (ip netns)"

    let names: [String]
    /// Prefixes device names, so tests that run at once never clash.
    let tag: String

    private init(names: [String], tag: String) {
        self.names = names
        self.tag = tag
    }

    /// The device of link `name` on side `a` or `b`.
    func device(_ name: String, _ side: String) -> String { "\(tag)\(name)\(side)" }

    /// Makes namespaces `count` (loopback up), runs `body`, deletes them (and their links) whatever happens.
    static func with(count: Int, _ body: (NetworkNamespaces) async throws -> Void) async throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let namespaces = NetworkNamespaces(names: (1...count).map { "vrd\(tag)-\($0)" }, tag: tag)
        do {
            for name in namespaces.names {
                try await run(["netns", "add", name])
                try await run(["-n", name, "link", "set", "lo", "up"])
            }
            try await body(namespaces)
        } catch {
            await namespaces.delete()
            throw error
        }
        await namespaces.delete()
    }

    /// Joins namespace `a` and `b` with a veth pair (`device(name, "a")` / `device(name, "b")`),
    /// addressed `prefix`.1 and `prefix`.2 (/24).
    func link(_ a: Int, _ b: Int, name: String, prefix: String) async throws {
        try await Self.run(["link", "add", device(name, "a"), "netns", names[a], "type", "veth",
                            "peer", "name", device(name, "b"), "netns", names[b]])
        for (index, side, host) in [(a, "a", 1), (b, "b", 2)] {
            try await Self.run(["-n", names[index], "addr", "add", "\(prefix).\(host)/24", "dev", device(name, side)])
            try await Self.run(["-n", names[index], "link", "set", device(name, side), "up"])
        }
    }

    /// Takes side `side` of link `name` down (cuts it) or up again.
    func set(_ namespace: Int, link name: String, side: String, up: Bool) async throws {
        try await Self.run(["-n", names[namespace], "link", "set", device(name, side), up ? "up" : "down"])
    }

    /// Bytes side `side` of link `name` has received.
    func receivedBytes(_ namespace: Int, link name: String, side: String) async -> Int {
        let result = await TestDaemon.run(Self.ip, ["netns", "exec", names[namespace], "cat",
                                                    "/sys/class/net/\(device(name, side))/statistics/rx_bytes"])
        return Int(result.output.trimmingWhitespace()) ?? 0
    }

    private func delete() async {
        for name in names { _ = await TestDaemon.run(Self.ip, ["netns", "delete", name]) }
    }

    private static func run(_ arguments: [String]) async throws {
        let result = await TestDaemon.run(ip, arguments)
        try #require(result.exitCode == 0, "ip \(arguments.joined(separator: " ")): \(result.error)")
    }
}
