import struct Foundation.Date

/// A VM as the API reports it (`GET /v1/vms/{name}`, and each item of `GET /v1/vms`).
public struct VMInfo: Codable, Sendable {
    public var id: String
    public var name: String
    public var state: VMState
    public var generation: Int
    public var processorCount: Int
    public var memoryMiB: Int
    public var notes: String
    public var image: String?
    public var secureBoot: Bool
    /// The VM has a virtual TPM 2.0.
    public var tpm: Bool
    /// The VM is shielded: its disks, TPM state and saved memory are encrypted with its key.
    public var shielded: Bool
    /// A shielded VM's console and `exec` are allowed.
    public var allowConsole: Bool
    /// The VM has a video adapter, shown by the web console's graphical console.
    public var video: Bool
    public var kernelBoot: KernelBoot?
    public var drives: [DriveAttachment]
    public var networkAdapters: [NetworkAdapter]
    public var bootOrder: [BootDevice]
    /// QEMU's versioned machine type the VM runs as (`pc-q35-10.0`); nil until its first start for
    /// VMs created before Viridian recorded it.
    public var machineType: String?
    /// Seconds since the worker started running the guest; nil when Off or Saved.
    public var uptimeSeconds: Double?
    /// The QEMU worker's process id while one exists.
    public var workerPID: Int32?
    /// What the VM is busy with (`saving`, `moving`, with its job), nil when idle.
    public var operation: VMOperation?
    /// QEMU's own run state (`running`, `paused`, `inmigrate`, …) asked when the VM was shown; nil without a worker.
    public var engineStatus: String?
    /// How the host stops and starts the VM when it shuts down and comes back.
    public var automaticActions: AutomaticActions
    /// Which checkpoints the VM takes.
    public var checkpointType: CheckpointType
    public var createdAt: Date

    public init(id: String, name: String, state: VMState, configuration: VMConfiguration, notes: String,
                image: String?, uptimeSeconds: Double?, workerPID: Int32?, operation: VMOperation? = nil,
                createdAt: Date) {
        self.id = id
        self.name = name
        self.state = state
        self.generation = configuration.generation.rawValue
        self.processorCount = configuration.processorCount
        self.memoryMiB = configuration.memoryMiB
        self.notes = notes
        self.image = image
        self.secureBoot = configuration.secureBoot
        self.tpm = configuration.tpm
        self.shielded = configuration.shielded
        self.allowConsole = configuration.allowConsole
        self.video = configuration.video
        self.kernelBoot = configuration.kernelBoot
        self.drives = configuration.drives.filter { $0.kind != .vacated }
        self.networkAdapters = configuration.networkAdapters
        self.bootOrder = configuration.bootOrder
        self.machineType = configuration.machineType
        self.uptimeSeconds = uptimeSeconds
        self.workerPID = workerPID
        self.operation = operation
        self.automaticActions = configuration.automaticActions
        self.checkpointType = configuration.checkpointType
        self.createdAt = createdAt
    }
}

/// `POST /v1/vms`: a new VM. Unset fields take Hyper-V's defaults (Generation 2 when no
/// image says otherwise, 1 processor, 1024 MiB, one synthetic adapter on the Default Switch).
public struct CreateVMRequest: Codable, Sendable {
    public var name: String
    public var generation: Int?
    public var processorCount: Int?
    public var memoryMiB: Int?
    public var notes: String?
    public var secureBoot: Bool?
    /// A registered image (`test-guest`): the VM boots its kernel, and its root disk is a differencing child of the image's disk.
    public var image: String?
    public var kernel: String?
    public var initrd: String?
    public var append: String?
    /// Existing disk files to attach, in order, at the generation's boot controller.
    public var disks: [String]?
    /// An ISO for the first DVD drive.
    public var dvd: String?
    /// `none`, `synthetic` (default) or `legacy`.
    public var network: String?
    /// The switch of the first adapter; nil = the NAT Default Switch.
    public var switchName: String?
    public var bootOrder: [BootDevice]?
    /// A video adapter for the graphical console (default on).
    public var video: Bool?

    public init(name: String, generation: Int? = nil, processorCount: Int? = nil, memoryMiB: Int? = nil,
                notes: String? = nil, secureBoot: Bool? = nil, image: String? = nil, kernel: String? = nil,
                initrd: String? = nil, append: String? = nil, disks: [String]? = nil, dvd: String? = nil,
                network: String? = nil, switchName: String? = nil, bootOrder: [BootDevice]? = nil, video: Bool? = nil) {
        self.name = name
        self.generation = generation
        self.processorCount = processorCount
        self.memoryMiB = memoryMiB
        self.notes = notes
        self.secureBoot = secureBoot
        self.image = image
        self.kernel = kernel
        self.initrd = initrd
        self.append = append
        self.disks = disks
        self.dvd = dvd
        self.network = network
        self.switchName = switchName
        self.bootOrder = bootOrder
        self.video = video
    }
}

/// `PATCH /v1/vms/{name}`: settings of an Off VM (Set-VM).
public struct SetVMRequest: Codable, Sendable {
    public var processorCount: Int?
    public var memoryMiB: Int?
    public var notes: String?
    public var bootOrder: [BootDevice]?
    public var append: String?
    /// A versioned QEMU machine type this host offers, or `latest` for its newest (Update-VMVersion).
    public var machineType: String?
    /// These three may change in any state; the others only while the VM is Off.
    public var automaticStopAction: AutomaticActions.StopAction?
    public var automaticStartAction: AutomaticActions.StartAction?
    public var automaticStartDelaySeconds: Int?
    /// May change in any state.
    public var checkpointType: CheckpointType?
    /// A virtual TPM 2.0 (Generation 2). Turned off, its state stays with the VM, so turning it on
    /// again gives the guest back the same TPM (its keys and sealed secrets).
    public var tpm: Bool?
    /// A shielded VM's console and `exec` (while Off).
    public var allowConsole: Bool?
    /// The video adapter (while Off).
    public var video: Bool?

    public init(processorCount: Int? = nil, memoryMiB: Int? = nil, notes: String? = nil,
                bootOrder: [BootDevice]? = nil, append: String? = nil, machineType: String? = nil,
                automaticStopAction: AutomaticActions.StopAction? = nil, automaticStartAction: AutomaticActions.StartAction? = nil,
                automaticStartDelaySeconds: Int? = nil, checkpointType: CheckpointType? = nil, tpm: Bool? = nil,
                allowConsole: Bool? = nil, video: Bool? = nil) {
        self.video = video
        self.checkpointType = checkpointType
        self.tpm = tpm
        self.allowConsole = allowConsole
        self.automaticStopAction = automaticStopAction
        self.automaticStartAction = automaticStartAction
        self.automaticStartDelaySeconds = automaticStartDelaySeconds
        self.processorCount = processorCount
        self.memoryMiB = memoryMiB
        self.notes = notes
        self.bootOrder = bootOrder
        self.append = append
        self.machineType = machineType
    }
}

/// `POST /v1/vms/{name}/shield`: shields an Off VM (a job): a key for it in the host's key store,
/// each disk rewritten as LUKS-encrypted qcow2, its TPM state encrypted.
public struct ShieldVMRequest: Codable, Sendable {
    /// Keep the serial console and `vm exec` (refused by default).
    public var allowConsole: Bool?

    public init(allowConsole: Bool? = nil) {
        self.allowConsole = allowConsole
    }
}

/// `POST /v1/vms/{name}/stop`.
public struct StopVMRequest: Codable, Sendable {
    /// Turn the VM off at once (pull the plug) instead of a graceful shutdown.
    public var turnOff: Bool
    /// How long a graceful shutdown may take before the VM is turned off.
    public var timeoutSeconds: Int?

    public init(turnOff: Bool = false, timeoutSeconds: Int? = nil) {
        self.turnOff = turnOff
        self.timeoutSeconds = timeoutSeconds
    }

    /// Each field is optional, as the API document says: `{}` is a graceful shutdown.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        turnOff = try container.decodeIfPresent(Bool.self, forKey: .turnOff) ?? false
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }

    private enum CodingKeys: String, CodingKey { case turnOff, timeoutSeconds }
}

/// `POST /v1/vms/{name}/disks`: attach a hard disk.
public struct AddDiskRequest: Codable, Sendable {
    public var path: String
    public var controllerType: ControllerType?
    public var controllerNumber: Int?
    public var location: Int?
    /// The disk's format, needed only for a raw disk Viridian does not know yet (raw is never guessed).
    public var format: VHDFormat?
    /// `path` is a host block device given to the guest whole (always raw).
    public var passThrough: Bool?

    public init(path: String, controllerType: ControllerType? = nil, controllerNumber: Int? = nil, location: Int? = nil,
                format: VHDFormat? = nil, passThrough: Bool? = nil) {
        self.path = path
        self.controllerType = controllerType
        self.controllerNumber = controllerNumber
        self.location = location
        self.format = format
        self.passThrough = passThrough
    }
}

/// `PUT /v1/vms/{name}/dvd`: insert an ISO into the VM's DVD drive (adding one if it has none), or eject with `path: null`.
public struct SetDVDRequest: Codable, Sendable {
    public var path: String?

    public init(path: String?) { self.path = path }
}

/// One row of `GET /v1/vms` (Get-VM's columns); `GET /v1/vms/{name}` has the whole VM.
public struct VMSummary: Codable, Sendable {
    public var id: String
    public var name: String
    public var state: VMState
    public var generation: Int
    public var processorCount: Int
    public var memoryMiB: Int
    public var uptimeSeconds: Double?

    public init(id: String, name: String, state: VMState, generation: Int, processorCount: Int, memoryMiB: Int,
                uptimeSeconds: Double?) {
        self.id = id
        self.name = name
        self.state = state
        self.generation = generation
        self.processorCount = processorCount
        self.memoryMiB = memoryMiB
        self.uptimeSeconds = uptimeSeconds
    }
}
