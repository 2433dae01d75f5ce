/// The `GET /v1/vms/{name}/exec` WebSocket protocol (`viridian vm exec` and `vm shell`).
///
/// The client's first message is a text `SessionStart`. After it, client binary messages are the
/// program's standard input and text messages are `SessionControl`. The server sends binary
/// messages whose first byte is 1 (standard output) or 2 (standard error) followed by the bytes,
/// and ends with a text `SessionEnd` before closing.
public struct SessionStart: Codable, Sendable {
    public var arguments: [String]
    /// Give the program a pseudo-terminal (an interactive shell).
    public var terminal: Bool
    public var columns: Int
    public var rows: Int
    public var environment: [String: String]

    public init(arguments: [String], terminal: Bool, columns: Int, rows: Int, environment: [String: String]) {
        self.arguments = arguments
        self.terminal = terminal
        self.columns = columns
        self.rows = rows
        self.environment = environment
    }
}

/// Client → server during a session.
public struct SessionControl: Codable, Sendable {
    /// No more standard input.
    public var closeInput: Bool?
    public var columns: Int?
    public var rows: Int?
    /// A signal number for the program (2 = SIGINT, 15 = SIGTERM).
    public var signal: Int32?

    public init(closeInput: Bool? = nil, columns: Int? = nil, rows: Int? = nil, signal: Int32? = nil) {
        self.closeInput = closeInput
        self.columns = columns
        self.rows = rows
        self.signal = signal
    }
}

/// Server → client: how the session ended.
public struct SessionEnd: Codable, Sendable {
    /// The program's exit code (128 + signal when a signal ended it).
    public var exitCode: Int32?
    /// Why the program could not run or the session broke.
    public var error: ErrorResponse.Body?

    public init(exitCode: Int32?, error: ErrorResponse.Body?) {
        self.exitCode = exitCode
        self.error = error
    }
}

/// The first byte of a server binary message.
public enum SessionStream: UInt8, Sendable {
    case stdout = 1
    case stderr = 2
}
