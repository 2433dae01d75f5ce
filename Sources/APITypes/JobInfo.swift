import struct Foundation.Date

/// The state of a job, as Hyper-V's WMI jobs report it.
public enum JobState: String, Codable, Sendable {
    case queued = "Queued"
    case running = "Running"
    case completed = "Completed"
    case failed = "Failed"
    case cancelled = "Cancelled"

    /// The job will not change any more.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// A long operation: start, stop, save, a disk conversion, an image build.
public struct JobInfo: Codable, Sendable {
    public var id: String
    /// What the job does: `vm.start`, `vm.save`, `vhd.convert`, `image.build`, …
    public var kind: String
    public var vm: String?
    public var description: String
    public var state: JobState
    public var percentComplete: Int
    /// What the job says about its work at the moment or, when it finished, its result.
    public var statusMessage: String?
    public var error: ErrorResponse.Body?
    public var createdAt: Date
    public var finishedAt: Date?

    public init(id: String, kind: String, vm: String?, description: String, state: JobState, percentComplete: Int,
                statusMessage: String?, error: ErrorResponse.Body?, createdAt: Date, finishedAt: Date?) {
        self.id = id
        self.kind = kind
        self.vm = vm
        self.description = description
        self.state = state
        self.percentComplete = percentComplete
        self.statusMessage = statusMessage
        self.error = error
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// The reply of every request that starts a job.
public struct JobReference: Codable, Sendable {
    public var job: JobInfo

    public init(job: JobInfo) { self.job = job }
}
