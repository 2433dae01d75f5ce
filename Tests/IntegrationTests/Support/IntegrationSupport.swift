import AgentProtocol
import APITypes
import Foundation
import GuestImage
import Logging
import Testing

extension TestDaemon {
    /// Waits until the VM's heartbeat is OK (and, if given, negotiated `release`). Returns the services.
    @discardableResult
    func waitForIntegration(_ vm: String, release: String? = nil, timeout: Duration = .seconds(90)) async throws
        -> [IntegrationServiceStatus] {
        let deadline = ContinuousClock.now + timeout
        var last: [IntegrationServiceStatus] = []
        while ContinuousClock.now < deadline {
            last = (try? await client.integrationServices(vm)) ?? []
            if let heartbeat = last.first(where: { $0.name == "heartbeat" }), heartbeat.primaryStatus == "OK",
               release == nil || heartbeat.release == release {
                return last
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let details = await diagnostics(vm)
        Issue.record("integration services of \(vm) never came up\(release.map { " at \($0)" } ?? ""): \(last)\n\(details)")
        throw ViridianError(.timeout, "integration wait")
    }

    /// What a failed wait reports: the tail of the VM's console and the daemon's log lines about it.
    func diagnostics(_ vm: String) async -> String {
        let console = (try? await client.consoleLog(vm)) ?? "(no console log)"
        let logLines = daemonLog.split(separator: "\n").filter { $0.contains(vm) }.suffix(15)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "unknown"
        return "host load: \(load)console of \(vm):\n\(console.suffix(5000))\ndaemon log about \(vm):\n\(logLines.joined(separator: "\n"))"
    }

    /// Waits until `condition` holds for the VM's services.
    func waitForServices(_ vm: String, timeout: Duration = .seconds(30), what: String,
                         _ condition: ([IntegrationServiceStatus]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var last: [IntegrationServiceStatus] = []
        while ContinuousClock.now < deadline {
            last = (try? await client.integrationServices(vm)) ?? []
            if condition(last) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(vm): \(what) did not happen: \(last)")
        throw ViridianError(.timeout, what)
    }

    /// Runs a program in the guest and returns the CLI result (exit code is the program's).
    func exec(_ vm: String, _ command: [String], input: String? = nil) async -> CLIResult {
        await cli(["vm", "exec", vm] + (input == nil ? [] : ["-i"]) + ["--"] + command, input: input)
    }

    /// Creates a VM that boots the test guest's kernel with `initrd` (no disk): a guest with another agent.
    func createDirectBootVM(_ name: String, files: TestGuestFiles, extra: [String] = []) async throws {
        let create = await cli(["vm", "create", name, "--memory", "256M", "--kernel", files.kernel, "--initrd", files.initrd,
                                "--append", files.append] + extra)
        try #require(create.exitCode == 0, "create failed: \(create.error)")
    }
}

/// Guest agent bundles the build scripts leave beside the debug products.
enum AgentBundles {
    /// `.build/guest` of this package (`.build/debug` is a link, so `..` from it would land elsewhere).
    static var current: String { "\(BuildProducts.packageRoot)/.build/guest" }
    static var legacy: String { "\(BuildProducts.packageRoot)/.build/guest-legacy" }
    static let available = FileManager.default.fileExists(atPath: "\(current)/viridian-guest")
        && FileManager.default.fileExists(atPath: "\(legacy)/viridian-guest")
    static let missing = "needs scripts/build-guest-agent.sh and scripts/build-guest-agent.sh --legacy"

    /// The test guest with the legacy (older release) agent, built once and cached like the daemon's.
    static func legacyGuest() async throws -> TestGuestFiles {
        let builder = TestGuestBuilder(cacheDirectory: DefaultLocations.cacheDirectory, logger: Logger(label: "test"))
        return try await builder.build(agent: .viridian(try GuestAgentBundle(directory: legacy))) { _, _ in }
    }
}

/// Waits until `condition` holds, recording an issue naming `what` (and `details`, gathered then) when it never does.
func eventually(_ what: String, timeout: Duration = .seconds(30), details: () async -> String = { "" },
                _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    let found = await details()
    Issue.record("\(what): did not happen within \(timeout)\(found.isEmpty ? "" : "\n" + found)")
    throw ViridianError(.timeout, what)
}
