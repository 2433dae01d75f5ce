/// Host → guest on `fcopy`: the host is about to send a file of `size` bytes for `path`.
/// The guest answers `FileCopyReply`; on success `.data` frames on the same channel follow, then `PutEnd`.
public struct PutBegin: AgentMessage {
    public static let type = "put-begin"
    public var path: String
    public var size: Int64
    public var createFullPath: Bool
    public var overwrite: Bool
    public var mode: UInt32

    public init(path: String, size: Int64, createFullPath: Bool, overwrite: Bool, mode: UInt32) {
        self.path = path
        self.size = size
        self.createFullPath = createFullPath
        self.overwrite = overwrite
        self.mode = mode
    }
}

/// Host → guest: every byte has been sent; the guest commits the file and answers `FileCopyReply`.
public struct PutEnd: AgentMessage {
    public static let type = "put-end"
    public init() {}
}

/// Host → guest: the transfer was cancelled; the guest removes the partial file.
public struct CopyAbort: AgentMessage {
    public static let type = "copy-abort"
    public init() {}
}

/// Host → guest on `fcopy`: send me the file at `path`.
/// The guest answers `FileCopyReply` with the size, then `.data` frames, then `GetEnd`.
public struct GetBegin: AgentMessage {
    public static let type = "get-begin"
    public var path: String

    public init(path: String) { self.path = path }
}

/// Guest → host: the file has been sent completely.
public struct GetEnd: AgentMessage {
    public static let type = "get-end"
    public init() {}
}

/// Guest → host: the result of a file copy step.
public struct FileCopyReply: AgentMessage {
    public static let type = "copy-reply"
    public var ok: Bool
    public var size: Int64?
    public var error: String?

    public init(ok: Bool, size: Int64? = nil, error: String? = nil) {
        self.ok = ok
        self.size = size
        self.error = error
    }
}
