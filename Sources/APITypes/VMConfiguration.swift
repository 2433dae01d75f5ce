import AgentProtocol

/// Which firmware and device model a VM has, as in Hyper-V.
/// Generation 1: SeaBIOS, IDE boot, emulated devices allowed. Generation 2: UEFI, SCSI boot, synthetic only.
public enum Generation: Int, Codable, Sendable {
    case one = 1
    case two = 2
}

/// A storage controller type.
public enum ControllerType: String, Codable, Sendable, CaseIterable {
    case ide = "IDE"
    case scsi = "SCSI"
}

/// What sits at a controller location.
public enum DriveKind: String, Codable, Sendable {
    case hardDisk = "HardDisk"
    case dvd = "DVD"
    /// A hard disk removed while its VM ran: the entry keeps the other drives' device ids (their
    /// positions) in a running worker, frees its location, and goes when the VM is next Off.
    case vacated = "Vacated"
}

/// A hard disk or DVD drive at a controller location. A DVD drive with no `path` is empty.
public struct DriveAttachment: Codable, Sendable, Equatable {
    public var kind: DriveKind
    public var controllerType: ControllerType
    public var controllerNumber: Int
    public var location: Int
    public var path: String?
    /// A hard disk that is a host block device given to the guest whole (Hyper-V's physical hard
    /// disk): raw, never probed, and never copied, checkpointed or backed up by Viridian.
    public var passThrough: Bool

    public init(kind: DriveKind, controllerType: ControllerType, controllerNumber: Int, location: Int, path: String?,
                passThrough: Bool = false) {
        self.kind = kind
        self.controllerType = controllerType
        self.controllerNumber = controllerNumber
        self.location = location
        self.path = path
        self.passThrough = passThrough
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(DriveKind.self, forKey: .kind)
        controllerType = try container.decode(ControllerType.self, forKey: .controllerType)
        controllerNumber = try container.decode(Int.self, forKey: .controllerNumber)
        location = try container.decode(Int.self, forKey: .location)
        path = try container.decodeIfPresent(String.self, forKey: .path)
        passThrough = try container.decodeIfPresent(Bool.self, forKey: .passThrough) ?? false
    }

    /// `IDE 0:1` — the way Hyper-V Manager names a location.
    public var locationName: String { "\(controllerType.rawValue) \(controllerNumber):\(location)" }
}

/// The kind of a network adapter: synthetic (virtio-net) or legacy (emulated Intel e1000, Generation 1 only).
public enum NetworkAdapterKind: String, Codable, Sendable {
    case synthetic = "Synthetic"
    case legacy = "Legacy"
}

/// A VM network adapter, the switch it connects to, and its port features.
public struct NetworkAdapter: Codable, Sendable, Equatable {
    /// The name of the NAT switch that QEMU user networking provides.
    public static let defaultSwitch = "Default Switch"

    public var kind: NetworkAdapterKind
    public var macAddress: String
    /// True when the administrator chose the MAC; false when it came from the host's pool.
    public var staticMAC: Bool
    public var switchName: String
    public var settings: PortSettings

    public init(kind: NetworkAdapterKind, macAddress: String, staticMAC: Bool = false,
                switchName: String = NetworkAdapter.defaultSwitch, settings: PortSettings = PortSettings()) {
        self.kind = kind
        self.macAddress = macAddress
        self.staticMAC = staticMAC
        self.switchName = switchName
        self.settings = settings
    }

    /// True when the adapter sits on the NAT Default Switch (QEMU user networking, no tap).
    public var isOnDefaultSwitch: Bool { switchName.lowercased() == Self.defaultSwitch.lowercased() }

    private enum CodingKeys: String, CodingKey {
        case kind, macAddress, staticMAC, switchName, settings
    }

    /// Decodes, giving adapters stored before port features existed the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(NetworkAdapterKind.self, forKey: .kind)
        macAddress = try container.decode(String.self, forKey: .macAddress)
        staticMAC = try container.decodeIfPresent(Bool.self, forKey: .staticMAC) ?? false
        switchName = try container.decode(String.self, forKey: .switchName)
        settings = try container.decodeIfPresent(PortSettings.self, forKey: .settings) ?? PortSettings()
    }
}

/// A device the firmware may boot from, in the VM's boot order.
public enum BootDevice: String, Codable, Sendable, CaseIterable {
    case hardDisk = "HardDisk"
    case dvd = "DVD"
    case network = "Network"
}

/// Direct kernel boot: a Linux kernel, initramfs and command line loaded by QEMU without a boot loader.
public struct KernelBoot: Codable, Sendable, Equatable {
    public var kernel: String
    public var initrd: String?
    public var append: String?

    public init(kernel: String, initrd: String?, append: String?) {
        self.kernel = kernel
        self.initrd = initrd
        self.append = append
    }
}

/// A VM's settings: its hardware (everything that decides its QEMU command line) and how the
/// host stops and starts it. They travel with the VM when it moves.
public struct VMConfiguration: Codable, Sendable, Equatable {
    public var generation: Generation
    public var processorCount: Int
    public var memoryMiB: Int
    public var secureBoot: Bool
    public var kernelBoot: KernelBoot?
    public var drives: [DriveAttachment]
    public var networkAdapters: [NetworkAdapter]
    public var bootOrder: [BootDevice]
    /// The integration services whose ports the VM gets (Hyper-V's defaults: all but file copy).
    public var integrationServices: Set<IntegrationService>
    /// QEMU's versioned machine type (`pc-i440fx-10.0`, `pc-q35-10.0`), fixed when the VM is created
    /// so that engine upgrades change nothing the guest sees (Hyper-V's configuration version).
    /// Nil for VMs created before Viridian recorded it: fixed at their next start.
    public var machineType: String?
    /// What the host does with the VM when it shuts down and comes back.
    public var automaticActions: AutomaticActions
    /// Which checkpoints the VM takes (production by default, as Hyper-V since 2016).
    public var checkpointType: CheckpointType
    /// A virtual TPM 2.0 (Generation 2 only; Hyper-V's `Enable-VMTPM`), emulated by swtpm.
    public var tpm: Bool
    /// A shielded VM (`ShieldingKey`): its disks are LUKS-encrypted qcow2, its TPM state and saved
    /// memory are encrypted at rest, its console is never logged.
    public var shielded: Bool
    /// A shielded VM's serial console and `vm exec` (refused otherwise, as Hyper-V's shielded VMs
    /// refuse VMConnect and PowerShell Direct).
    public var allowConsole: Bool
    /// A video adapter (standard VGA) whose screen the web console shows through QEMU's VNC server
    /// on a socket in the worker's runtime folder (Hyper-V's VMConnect). Off for VMs stored before
    /// it existed, so their hardware does not change under their saved state.
    public var video: Bool

    public init(generation: Generation, processorCount: Int, memoryMiB: Int, secureBoot: Bool,
                kernelBoot: KernelBoot?, drives: [DriveAttachment], networkAdapters: [NetworkAdapter],
                bootOrder: [BootDevice],
                integrationServices: Set<IntegrationService> = IntegrationService.defaultEnabled,
                machineType: String? = nil, automaticActions: AutomaticActions = AutomaticActions(),
                checkpointType: CheckpointType = .production, tpm: Bool = false, shielded: Bool = false,
                allowConsole: Bool = false, video: Bool = false) {
        self.generation = generation
        self.processorCount = processorCount
        self.memoryMiB = memoryMiB
        self.secureBoot = secureBoot
        self.kernelBoot = kernelBoot
        self.drives = drives
        self.networkAdapters = networkAdapters
        self.bootOrder = bootOrder
        self.integrationServices = integrationServices
        self.machineType = machineType
        self.automaticActions = automaticActions
        self.checkpointType = checkpointType
        self.tpm = tpm
        self.shielded = shielded
        self.allowConsole = allowConsole
        self.video = video
    }

    private enum CodingKeys: String, CodingKey {
        case generation, processorCount, memoryMiB, secureBoot, kernelBoot, drives, networkAdapters, bootOrder
        case integrationServices, machineType, automaticActions, checkpointType, tpm, shielded, allowConsole, video
    }

    /// Decodes, giving VMs stored before integration services existed Hyper-V's defaults (and
    /// before TPMs existed, none).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        generation = try container.decode(Generation.self, forKey: .generation)
        processorCount = try container.decode(Int.self, forKey: .processorCount)
        memoryMiB = try container.decode(Int.self, forKey: .memoryMiB)
        secureBoot = try container.decode(Bool.self, forKey: .secureBoot)
        kernelBoot = try container.decodeIfPresent(KernelBoot.self, forKey: .kernelBoot)
        drives = try container.decode([DriveAttachment].self, forKey: .drives)
        networkAdapters = try container.decode([NetworkAdapter].self, forKey: .networkAdapters)
        bootOrder = try container.decode([BootDevice].self, forKey: .bootOrder)
        integrationServices = try container.decodeIfPresent(Set<IntegrationService>.self, forKey: .integrationServices)
            ?? IntegrationService.defaultEnabled
        machineType = try container.decodeIfPresent(String.self, forKey: .machineType)
        automaticActions = try container.decodeIfPresent(AutomaticActions.self, forKey: .automaticActions) ?? AutomaticActions()
        checkpointType = try container.decodeIfPresent(CheckpointType.self, forKey: .checkpointType) ?? .production
        tpm = try container.decodeIfPresent(Bool.self, forKey: .tpm) ?? false
        shielded = try container.decodeIfPresent(Bool.self, forKey: .shielded) ?? false
        allowConsole = try container.decodeIfPresent(Bool.self, forKey: .allowConsole) ?? false
        video = try container.decodeIfPresent(Bool.self, forKey: .video) ?? false
    }
}

extension VMConfiguration {
    /// The controller locations its drives hold (a vacated entry holds none).
    public var occupiedLocations: Set<String> {
        Set(drives.filter { $0.kind != .vacated }.map(\.locationName))
    }

    /// Puts a drive added while the VM runs at the first vacated position (its device is gone), or
    /// at the end; returns its position, which names its device.
    public mutating func placeLive(_ drive: DriveAttachment) -> Int {
        guard let index = drives.firstIndex(where: { $0.kind == .vacated }) else {
            drives.append(drive)
            return drives.count - 1
        }
        drives[index] = drive
        return index
    }

    /// Marks the drive at `index`, removed while the VM runs, vacated: its location is free, its
    /// position (and controller) stay.
    public mutating func vacate(_ index: Int) {
        drives[index].kind = .vacated
        drives[index].path = nil
        drives[index].passThrough = false
    }

    /// The host block devices the VM's pass-through disks are.
    public var passThroughDevices: [String] {
        drives.filter { $0.kind == .hardDisk && $0.passThrough }.compactMap(\.path)
    }

    /// Refuses `action` for a shielded VM: what would write its disks or memory where the VM's key
    /// does not encrypt them (checkpoint overlays, backup repositories, copies of its disks).
    public func requireNotShielded(vm name: String, _ action: String) throws {
        guard !shielded else {
            throw ViridianError(.invalidState, "VM '\(name)' is shielded; \(action) is not possible for a shielded VM yet "
                                + "(it would write the VM's disks or memory unencrypted)")
        }
    }

    /// Refuses `action` (a checkpoint, a backup, a move) for a VM with pass-through disks: their
    /// data lives on a host device Viridian neither copies nor snapshots, as in Hyper-V.
    public func requireNoPassThrough(vm name: String, _ action: String) throws {
        let devices = passThroughDevices
        guard devices.isEmpty else {
            throw ViridianError(.invalidState, "VM '\(name)' has the pass-through disk\(devices.count == 1 ? "" : "s") "
                                + devices.joined(separator: ", ") + "; \(action) is not possible with a host device attached"
                                + " (detach it first: viridian vm disk remove \(name) \(devices[0]))")
        }
    }
}
