/// Host → guest on `shutdown`: shut down or restart in an orderly way.
public struct ShutdownRequest: AgentMessage {
    public static let type = "shutdown-request"
    public var action: ShutdownAction
    public var reason: String

    public init(action: ShutdownAction, reason: String) {
        self.action = action
        self.reason = reason
    }
}

public enum ShutdownAction: String, Codable, Sendable {
    case shutdown, restart
}

/// Guest → host: whether the guest accepted the request (it then shuts down by itself).
public struct ShutdownReply: AgentMessage {
    public static let type = "shutdown-reply"
    public var accepted: Bool
    public var message: String

    public init(accepted: Bool, message: String) {
        self.accepted = accepted
        self.message = message
    }
}
