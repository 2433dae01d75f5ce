import AgentProtocol

/// What a guest's agent and the host agreed on for one service.
public struct Negotiated: Sendable, Equatable {
    /// The guest's integration services release (`0.2.0`).
    public var release: String
    /// Which agent answered (`viridian-guest`, `qemu-guest-agent`).
    public var agent: String
    public var frameworkVersion: Int
    public var serviceVersion: Int
}
