/// Guest → host on `heartbeat`, once per `interval`.
public struct Beat: AgentMessage {
    public static let type = "beat"
    /// Seconds between beats.
    public static let interval = 1
    /// The application health the guest reports (`viridian-guest health set …`).
    public var health: GuestHealth
    public var reason: String?

    public init(health: GuestHealth, reason: String?) {
        self.health = health
        self.reason = reason
    }
}

/// What the guest says about its applications.
public enum GuestHealth: String, Codable, Sendable {
    case ok, degraded
}
