import APITypes
import Foundation
import Testing

/// A viridiand running inside its own network namespace, so its bridges, taps and nftables
/// rules never touch the machine's or another test's.
enum SwitchLab {
    /// Makes `count` namespaces, starts viridiand in the first, runs `body`, tears everything down.
    static func with(namespaces count: Int = 1, _ body: (TestDaemon, NetworkNamespaces) async throws -> Void) async throws {
        try await NetworkNamespaces.with(count: count) { net in
            let daemon = try TestDaemon()
            daemon.launchPrefix = [NetworkNamespaces.ip, "netns", "exec", net.names[0]]
            do {
                try await daemon.start()
                try await body(daemon, net)
            } catch {
                await daemon.tearDown()
                throw error
            }
            await daemon.tearDown()
        }
    }
}

extension TestDaemon {
    /// Creates and starts a test-guest VM on `switchName` with a static address, and waits for its agent.
    func startGuest(_ name: String, on switchName: String, address: String, extra: [String] = []) async throws {
        try await createTestVM(name, extra: ["--switch", switchName, "--append", "viridian.ip=\(address)"] + extra)
        let started = await cli(["vm", "start", name])
        try #require(started.exitCode == 0, "\(started.error)")
    }

    /// True when `vm` gets an answer from `address` (one ping, two seconds).
    func pings(_ vm: String, _ address: String, size: Int? = nil) async -> Bool {
        let sizeArguments = size.map { ["-s", String($0)] } ?? []
        return await exec(vm, ["ping", "-c", "1", "-W", "2"] + sizeArguments + [address]).exitCode == 0
    }

    /// `vm nic set VM ARGS…`, which must succeed.
    func setNIC(_ vm: String, _ arguments: [String]) async throws {
        let result = await cli(["vm", "nic", "set", vm] + arguments)
        try #require(result.exitCode == 0, "nic set \(vm) \(arguments): \(result.error)")
    }

    /// A guest shell command that must succeed; returns its output.
    @discardableResult
    func guest(_ vm: String, _ script: String) async throws -> String {
        let result = await exec(vm, ["sh", "-c", script])
        try #require(result.exitCode == 0, "\(vm): \(script): \(result)")
        return result.output
    }
}

extension NetworkNamespaces {
    /// Runs a program in namespace `index`.
    func run(_ index: Int, _ arguments: [String]) async -> CLIResult {
        await TestDaemon.run(Self.ip, ["netns", "exec", names[index]] + arguments)
    }

    /// A statistics counter of a link in namespace `index` (`rx_packets`, `rx_bytes`…).
    func counter(_ index: Int, link: String, _ name: String) async -> Int {
        Int(await run(index, ["cat", "/sys/class/net/\(link)/statistics/\(name)"]).output.trimmingWhitespace()) ?? 0
    }

    /// True when namespace `index` has a link called `name`.
    func hasLink(_ index: Int, _ name: String) async -> Bool {
        await run(index, [Self.ip, "link", "show", "dev", name]).exitCode == 0
    }
}
