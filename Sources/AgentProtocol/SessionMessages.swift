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
    /// The host sends standard input only within the credit the guest grants (`ExecStarted.inputWindow`,
    /// then `InputCredit`). Nil from hosts before it; agents before it leave `inputWindow` unset.
    public var inputCredit: Bool?

    public init(arguments: [String], terminal: Bool, columns: Int = 80, rows: Int = 24,
                environment: [String: String] = [:], inputCredit: Bool? = nil) {
        self.arguments = arguments
        self.terminal = terminal
        self.columns = columns
        self.rows = rows
        self.environment = environment
        self.inputCredit = inputCredit
    }
}

/// Guest → host: the program started (or could not).
public struct ExecStarted: AgentMessage {
    public static let type = "exec-started"
    public var pid: Int32?
    public var error: String?
    /// Bytes of standard input the host may send before the first `InputCredit`, when the host asked
    /// for credit; nil otherwise (the agent then takes input as its port brings it).
    public var inputWindow: Int?

    public init(pid: Int32?, error: String?, inputWindow: Int? = nil) {
        self.pid = pid
        self.error = error
        self.inputWindow = inputWindow
    }
}

/// Guest → host: the program took `bytes` more of its standard input, so the host may send that
/// many more. A program that reads nothing then holds back its own input only, never the port the
/// other sessions share.
public struct InputCredit: AgentMessage {
    public static let type = "input-credit"
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }
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
