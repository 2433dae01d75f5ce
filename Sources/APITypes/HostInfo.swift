import struct Foundation.Date

/// The virtualization engine a host uses.
public enum Accelerator: String, Codable, Sendable {
    case kvm, tcg
}

/// `GET /v1/host`: what this host is and runs.
public struct HostInfo: Codable, Sendable {
    public var hostName: String
    public var version: String
    public var accelerator: Accelerator
    /// Why the probe chose this accelerator, or that a setting forced it.
    public var acceleratorReason: String
    public var qemuVersion: String
    /// Whether a moving guest keeps running while its memory is copied (false: it pauses for the copy).
    public var liveMemoryCopy: Bool?
    /// Why the copy pauses the guest on this host (QEMU before 9.0 under TCG); nil when it is live.
    public var memoryCopyPauseReason: String?
    /// The machine types new VMs get: Generation 1's and Generation 2's newest on this QEMU.
    public var newestMachineTypes: [String]?
    public var stateDirectory: String
    public var logicalProcessors: Int
    public var memoryMiB: Int
    public var virtualMachines: Int
    public var runningVirtualMachines: Int
    public var startedAt: Date
    /// `ADDR:PORT` of the migration listener; nil when the host accepts no incoming moves.
    public var migrationListener: String?
    /// SHA-256 of this host's CA certificate, which peers trust.
    public var certificateFingerprint: String?
    /// Memory still free for VMs after the host's reserve and the VMs with a worker.
    public var availableMemoryMiB: Int?
    public var settings: HostSettings?
    /// Kernel and host features virtual switches use, and whether each is usable.
    public var networkFeatures: [HostNetworkFeature]?

    public init(hostName: String, version: String, accelerator: Accelerator, acceleratorReason: String,
                qemuVersion: String, stateDirectory: String, logicalProcessors: Int, memoryMiB: Int,
                virtualMachines: Int, runningVirtualMachines: Int, startedAt: Date, migrationListener: String? = nil,
                certificateFingerprint: String? = nil, availableMemoryMiB: Int? = nil, settings: HostSettings? = nil,
                networkFeatures: [HostNetworkFeature]? = nil, memoryCopyPauseReason: String? = nil,
                newestMachineTypes: [String]? = nil) {
        self.hostName = hostName
        self.version = version
        self.accelerator = accelerator
        self.acceleratorReason = acceleratorReason
        self.qemuVersion = qemuVersion
        self.stateDirectory = stateDirectory
        self.logicalProcessors = logicalProcessors
        self.memoryMiB = memoryMiB
        self.virtualMachines = virtualMachines
        self.runningVirtualMachines = runningVirtualMachines
        self.startedAt = startedAt
        self.migrationListener = migrationListener
        self.certificateFingerprint = certificateFingerprint
        self.availableMemoryMiB = availableMemoryMiB
        self.settings = settings
        self.networkFeatures = networkFeatures
        self.liveMemoryCopy = memoryCopyPauseReason == nil
        self.memoryCopyPauseReason = memoryCopyPauseReason
        self.newestMachineTypes = newestMachineTypes
    }
}

/// `GET /v1/images`: an image VMs can be created from.
public struct ImageInfo: Codable, Sendable {
    public var name: String
    public var kernel: String
    public var initrd: String?
    public var append: String?
    /// The root disk; a VM's root disk is a differencing child of it.
    public var disk: String
    /// The Generation the image boots best as.
    public var generation: Int
    public var createdAt: Date

    public init(name: String, kernel: String, initrd: String?, append: String?, disk: String, generation: Int, createdAt: Date) {
        self.name = name
        self.kernel = kernel
        self.initrd = initrd
        self.append = append
        self.disk = disk
        self.generation = generation
        self.createdAt = createdAt
    }
}
