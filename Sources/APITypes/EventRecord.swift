import struct Foundation.Date

/// How serious an event is (Hyper-V's event levels).
public enum EventLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case information, warning, error

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: EventLevel, rhs: EventLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Which part of Viridian wrote an event (Hyper-V's channels: VMMS, Worker, Integration…).
public enum EventSource: String, Codable, Sendable, CaseIterable {
    case vmms, worker, integration, storage, image, migration, network, checkpoint, backup
}

/// One entry of the persistent event log.
public struct EventRecord: Codable, Sendable {
    public var id: Int64
    public var time: Date
    public var level: EventLevel
    public var source: EventSource
    public var vm: String?
    public var message: String
    /// Who asked for it: the web console's user or the API token's name; nil for the host's own
    /// work and the local socket.
    public var user: String?

    public init(id: Int64, time: Date, level: EventLevel, source: EventSource, vm: String?, message: String,
                user: String? = nil) {
        self.id = id
        self.time = time
        self.level = level
        self.source = source
        self.vm = vm
        self.message = message
        self.user = user
    }
}

/// One line of `GET /v1/events/stream` (newline-delimited JSON): an event as it is recorded, or a
/// job's new state (progress, finish). Exactly one field is set.
public struct StreamItem: Codable, Sendable {
    public var event: EventRecord?
    public var job: JobInfo?

    public init(event: EventRecord? = nil, job: JobInfo? = nil) {
        self.event = event
        self.job = job
    }
}
