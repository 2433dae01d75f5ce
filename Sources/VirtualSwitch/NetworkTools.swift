import APITypes
import HostTools

/// The host programs switches are built with: `ip` and `tc` (iproute2) and `nft` (nftables).
/// Every call goes through here, so a failure names what was being done and what the kernel said.
struct NetworkTools: Sendable {
    let ip: String
    let tc: String
    let nft: String
    /// How long one `ip`, `tc` or `nft` call may take: they answer in milliseconds unless the kernel or a lock hangs.
    static let timeout = Duration.seconds(30)

    init() throws {
        ip = try HostExecutable.locate("ip", package: "iproute2")
        tc = try HostExecutable.locate("tc", package: "iproute2")
        nft = try HostExecutable.locate("nft", package: "nftables")
    }

    /// Runs `ip ARGS`; throws naming `purpose`.
    @discardableResult
    func ip(_ arguments: [String], _ purpose: String) async throws -> String {
        try await HostCommand.check(ip, arguments, purpose: purpose, timeout: Self.timeout).standardOutput
    }

    /// Runs `ip ARGS` and ignores a failure (removing what may already be gone).
    func ipIgnoringFailure(_ arguments: [String]) async {
        _ = try? await HostCommand.run(ip, arguments, timeout: Self.timeout)
    }

    /// Runs `tc ARGS`; throws naming `purpose`.
    func tc(_ arguments: [String], _ purpose: String) async throws {
        try await HostCommand.check(tc, arguments, purpose: purpose, timeout: Self.timeout)
    }

    /// Loads an nftables script atomically (`nft -f -`).
    func nftLoad(_ script: String, _ purpose: String) async throws {
        let output = try await HostCommand.run(nft, ["-f", "-"], input: script, timeout: Self.timeout)
        guard output.exitCode == 0 else {
            throw ViridianError(.engineFailure, "\(purpose) failed: \(output.errorSummary)")
        }
    }

    /// True when `name` is a network interface in this namespace.
    func linkExists(_ name: String) async -> Bool {
        (try? await HostCommand.run(ip, ["link", "show", "dev", name], timeout: Self.timeout))?.exitCode == 0
    }
}
