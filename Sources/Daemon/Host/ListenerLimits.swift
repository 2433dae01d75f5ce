/// The bounds every listener of viridiand has (the API socket, the migration listener, and the
/// web console when it comes): idle and unfinished connections end, and one listener holds a
/// bounded number of connections.
public struct ListenerLimits: Sendable {
    /// An idle connection, or one whose request stops half-way, is closed after this long. A
    /// response still being written (the event stream, a WebSocket session) is not idle.
    public var idleTimeout: Duration
    /// Connections the API socket holds at once.
    public var apiConnections: Int
    /// Connections the migration listener holds at once.
    public var peerConnections: Int
    /// Pending connections the kernel queues before `accept` (a busy host's burst of clients).
    public static let backlog = 1024

    public init(idleTimeout: Duration = .seconds(60), apiConnections: Int = 512, peerConnections: Int = 128) {
        self.idleTimeout = idleTimeout
        self.apiConnections = apiConnections
        self.peerConnections = peerConnections
    }
}
