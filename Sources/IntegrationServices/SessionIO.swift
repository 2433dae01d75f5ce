import AgentProtocol

/// What the host side of a session sends to the guest program.
public enum SessionInput: Sendable {
    case data([UInt8])
    case closeInput
    case resize(columns: Int, rows: Int)
    case signal(Int32)
}

/// Where a guest program's output goes: `.stdout` or `.stderr` with its bytes.
public typealias SessionOutput = @Sendable (FrameKind, [UInt8]) async -> Void

/// A program to run in the guest.
public struct SessionCommand: Sendable {
    public var arguments: [String]
    public var terminal: Bool
    public var columns: Int
    public var rows: Int
    public var environment: [String: String]

    public init(arguments: [String], terminal: Bool, columns: Int = 80, rows: Int = 24, environment: [String: String] = [:]) {
        self.arguments = arguments
        self.terminal = terminal
        self.columns = columns
        self.rows = rows
        self.environment = environment
    }
}
