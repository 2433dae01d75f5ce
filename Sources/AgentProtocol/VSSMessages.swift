/// Host → guest on `vss`: freeze every writable block file system.
public struct FreezeRequest: AgentMessage {
    public static let type = "freeze"
    /// The guest thaws by itself after this many seconds.
    public var timeoutSeconds: Int

    public init(timeoutSeconds: Int) { self.timeoutSeconds = timeoutSeconds }
}

/// Host → guest on `vss`: thaw what is frozen.
public struct ThawRequest: AgentMessage {
    public static let type = "thaw"
    public init() {}
}

/// Guest → host: the result of a freeze or thaw.
public struct FreezeReply: AgentMessage {
    public static let type = "freeze-reply"
    public var frozen: Bool
    /// Mount points frozen (after a freeze) or thawed (after a thaw).
    public var filesystems: [String]
    public var error: String?

    public init(frozen: Bool, filesystems: [String], error: String?) {
        self.frozen = frozen
        self.filesystems = filesystems
        self.error = error
    }
}

/// Guest → host: the guest thawed by itself because the host never asked.
public struct AutoThawed: AgentMessage {
    public static let type = "auto-thawed"
    public var filesystems: [String]

    public init(filesystems: [String]) { self.filesystems = filesystems }
}
