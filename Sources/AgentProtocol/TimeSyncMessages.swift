/// Host → guest on `timesync`: the host's clock, and whether the guest must step to it.
public struct TimeSample: AgentMessage {
    public static let type = "time-sample"
    /// Host real time in nanoseconds since 1970.
    public var hostTime: Int64
    /// `set`: step the clock now (start, resume, restore, migration);
    /// `correct`: step only when the skew exceeds `TimeSample.correctionThreshold`.
    public var mode: TimeSyncMode

    /// Skew below which a periodic correction leaves the guest clock alone (100 ms).
    public static let correctionThresholdNanoseconds: Int64 = 100_000_000

    public init(hostTime: Int64, mode: TimeSyncMode) {
        self.hostTime = hostTime
        self.mode = mode
    }
}

public enum TimeSyncMode: String, Codable, Sendable {
    case set, correct
}

/// Guest → host: the guest clock when the sample arrived, and whether it was stepped.
public struct TimeReply: AgentMessage {
    public static let type = "time-reply"
    public var guestTime: Int64
    public var adjusted: Bool
    public var message: String?

    public init(guestTime: Int64, adjusted: Bool, message: String?) {
        self.guestTime = guestTime
        self.adjusted = adjusted
        self.message = message
    }
}
