/// Host → guest on `session`: run a program. Output comes back as `.stdout`/`.stderr` frames on the
/// same channel, input goes as `.data` frames, and `ProcessExited` ends the session.
public struct ExecRequest: AgentMessage {
    public static let type = "exec"
    /// Program and arguments; the program is looked up on the guest's PATH.
    public var arguments: [String]
    /// Give the program a pseudo-terminal (interactive shells).
    public var terminal: Bool
    public var columns: Int
    public var rows: Int
    public var environment: [String: String]

    public init(arguments: [String], terminal: Bool, columns: Int = 80, rows: Int = 24,
                environment: [String: String] = [:]) {
        self.arguments = arguments
        self.terminal = terminal
        self.columns = columns
        self.rows = rows
        self.environment = environment
    }
}

/// Guest → host: the program started (or could not).
public struct ExecStarted: AgentMessage {
    public static let type = "exec-started"
    public var pid: Int32?
    public var error: String?

    public init(pid: Int32?, error: String?) {
        self.pid = pid
        self.error = error
    }
}

/// Host → guest: no more standard input.
public struct CloseInput: AgentMessage {
    public static let type = "close-input"
    public init() {}
}

/// Host → guest: the terminal changed size.
public struct ResizeTerminal: AgentMessage {
    public static let type = "resize"
    public var columns: Int
    public var rows: Int

    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }
}

/// Host → guest: deliver a signal to the program (SIGTERM, SIGKILL, …).
public struct SignalProcess: AgentMessage {
    public static let type = "signal"
    public var signal: Int32

    public init(signal: Int32) { self.signal = signal }
}

/// Guest → host: the program ended; every output frame has been sent before this.
public struct ProcessExited: AgentMessage {
    public static let type = "exited"
    /// The exit status, or 128 + the signal number when a signal ended it.
    public var exitCode: Int32

    public init(exitCode: Int32) { self.exitCode = exitCode }
}
