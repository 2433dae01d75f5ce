import Foundation

/// One reading of a VM's counters, taken by the host (`MetricsSource`): the worker's CPU time from
/// `/proc`, QMP's `query-blockstats`, the taps' counters. Counters only grow while one worker runs.
public struct VMSample: Sendable, Equatable {
    public var name: String
    public var state: String
    /// Memory assigned to the VM.
    public var memoryBytes: Int64
    /// The worker's resident memory; nil without a worker.
    public var residentBytes: Int64?
    /// The worker's user + system CPU time; nil without a worker.
    public var cpuSeconds: Double?
    public var blockReadBytes: Int64 = 0
    public var blockWriteBytes: Int64 = 0
    public var blockReadOperations: Int64 = 0
    public var blockWriteOperations: Int64 = 0
    /// Bytes and packets the guest received and sent through its adapters.
    public var networkReceiveBytes: Int64 = 0
    public var networkTransmitBytes: Int64 = 0
    public var networkReceivePackets: Int64 = 0
    public var networkTransmitPackets: Int64 = 0
    /// The heartbeat's primary status (`OK`, `Lost Communication`, `No Contact`); nil when Off.
    public var heartbeat: String?

    public init(name: String, state: String, memoryBytes: Int64, residentBytes: Int64? = nil, cpuSeconds: Double? = nil) {
        self.name = name
        self.state = state
        self.memoryBytes = memoryBytes
        self.residentBytes = residentBytes
        self.cpuSeconds = cpuSeconds
    }
}

/// The host's own numbers for `/metrics`.
public struct HostSample: Sendable, Equatable {
    public var jobsRunning: Int
    public var migrationsRunning: Int

    public init(jobsRunning: Int, migrationsRunning: Int) {
        self.jobsRunning = jobsRunning
        self.migrationsRunning = migrationsRunning
    }
}

/// What the metrics collector asks of the host: its VMs' counters, read now.
public protocol MetricsSource: Sendable {
    func vmSamples() async -> [VMSample]
    func hostSample() async -> HostSample
}
