/// One row of the web console's VM list (`GET /web/vms`), as Hyper-V Manager's: the VM, its CPU
/// use over the last sample, its heartbeat and its integration services release.
public struct VMListRow: Codable, Sendable {
    public var name: String
    public var state: VMState
    public var generation: Int
    public var processorCount: Int
    /// Assigned memory.
    public var memoryMiB: Int
    public var uptimeSeconds: Double?
    /// CPU use as a percentage of the VM's processors together; nil before two samples.
    public var cpuPercent: Double?
    /// The heartbeat's primary status while the VM runs.
    public var heartbeat: String?
    /// The integration services release the guest's agent last reported.
    public var integrationRelease: String?
    /// What the VM is busy with, nil when idle.
    public var operation: String?
    public var video: Bool

    public init(name: String, state: VMState, generation: Int, processorCount: Int, memoryMiB: Int, uptimeSeconds: Double?,
                cpuPercent: Double?, heartbeat: String?, integrationRelease: String?, operation: String?, video: Bool) {
        self.name = name
        self.state = state
        self.generation = generation
        self.processorCount = processorCount
        self.memoryMiB = memoryMiB
        self.uptimeSeconds = uptimeSeconds
        self.cpuPercent = cpuPercent
        self.heartbeat = heartbeat
        self.integrationRelease = integrationRelease
        self.operation = operation
        self.video = video
    }
}
