/// Which integration services agent a test guest runs.
public enum TestGuestAgent: Sendable {
    /// Viridian's own agent from a bundle (`scripts/build-guest-agent.sh`).
    case viridian(GuestAgentBundle)
    /// Debian's stock `qemu-guest-agent` with the libraries it links, for the fallback path.
    case qemuGuestAgent

    /// The part of the cache key that tells builds with different agents apart.
    func cacheTag() throws -> String {
        switch self {
        case .viridian(let bundle): "agent-\(try bundle.fingerprint())"
        case .qemuGuestAgent: "qga"
        }
    }
}
