import AgentProtocol
import APITypes

/// Builds the QEMU arguments for a VM: the Hyper-V device model mapped onto QEMU devices.
///
/// Generation 1 is `-M pc` (SeaBIOS, PIIX IDE with `ide.0`/`ide.1`, optional e1000 legacy NICs);
/// Generation 2 is `-M q35` with OVMF in pflash, SCSI (virtio-scsi) only and virtio-net only.
/// Every worker daemonizes, writes a pid file, and exposes QMP and the serial console as
/// `server=on,wait=off` unix sockets; the console chardev also appends to the VM's console log.
public struct QEMUCommandLine: Sendable {
    public var name: String
    public var id: String
    public var configuration: VMConfiguration
    public var accelerator: Accelerator
    public var paths: WorkerPaths
    /// The UEFI firmware for Generation 2.
    public var firmware: Firmware?
    /// Start paused, waiting for `migrate-incoming` (restoring a Saved VM).
    public var incoming: Bool
    /// For a live migration to this host: TLS credentials (CA list, host certificate and key) the
    /// incoming stream must verify against. The worker waits with its processors stopped (`-S`)
    /// until the migration is committed.
    public var migrationTLSDirectory: String?
    /// The tap of each adapter, by index; an adapter without one uses QEMU user networking (the NAT switch).
    public var taps: [Int: String]
    /// The block nodes of each hard disk, by drive index: its recorded chain (the disk, its parent,
    /// grandparent…), every node with its recorded format and parent, so QEMU probes nothing; or
    /// the host device of a pass-through disk.
    public let diskNodes: [Int: DiskChainNodes]
    /// A shielded VM's key file (`ShieldingKey`): every qcow2 node opens its LUKS layer with it, the
    /// console is not logged, and the guest's memory stays out of core dumps and swap.
    public var shieldingKeyFile: String?

    /// - Parameter diskChains: the recorded chain of each hard disk file, by drive index.
    /// - Throws: `internalError` when a hard disk file has no recorded chain.
    public init(name: String, id: String, configuration: VMConfiguration, accelerator: Accelerator,
                paths: WorkerPaths, firmware: Firmware?, incoming: Bool, migrationTLSDirectory: String? = nil,
                taps: [Int: String] = [:], diskChains: [Int: [DiskImage]], shieldingKeyFile: String? = nil) throws {
        var diskNodes: [Int: DiskChainNodes] = [:]
        for (index, drive) in configuration.drives.enumerated() where drive.kind == .hardDisk {
            diskNodes[index] = try DiskChainNodes(drive: drive, chain: diskChains[index], driveIndex: index)
        }
        self.name = name
        self.id = id
        self.configuration = configuration
        self.accelerator = accelerator
        self.paths = paths
        self.firmware = firmware
        self.incoming = incoming
        self.migrationTLSDirectory = migrationTLSDirectory
        self.taps = taps
        self.diskNodes = diskNodes
        self.shieldingKeyFile = shieldingKeyFile
    }

    /// The QOM id of the TLS credentials that migration and NBD streams use.
    public static let migrationTLSObject = "migtls"

    /// The arguments after the binary's path.
    public var arguments: [String] {
        var arguments = ["-name", "guest=\(escape(name)),process=viridian:\(name)", "-uuid", id]
        arguments += machineArguments
        arguments += ["-m", String(configuration.memoryMiB), "-smp", String(configuration.processorCount)]
        arguments += ["-nodefaults", "-no-user-config", "-display", "none", "-rtc", "base=utc"]
        arguments += ["-daemonize", "-pidfile", paths.pidFile]
        arguments += ["-chardev", "socket,id=qmp,path=\(escape(paths.qmpSocket)),server=on,wait=off",
                      "-mon", "chardev=qmp,mode=control"]
        let consoleLog = shieldingKeyFile == nil ? ",logfile=\(escape(paths.consoleLog)),logappend=on" : ""
        arguments += ["-chardev", "socket,id=console,path=\(escape(paths.consoleSocket)),server=on,wait=off\(consoleLog)",
                      "-serial", "chardev:console"]
        if configuration.video {
            arguments += ["-device", "VGA,id=video0"]
            // A shielded VM without console access shows its screen to nobody.
            if !configuration.shielded || configuration.allowConsole {
                arguments += ["-vnc", "unix:\(escape(paths.vncSocket))"]
            }
        }
        if let shieldingKeyFile {
            arguments += ["-object", "secret,id=\(ShieldingKey.secretID),file=\(escape(shieldingKeyFile)),format=raw",
                          "-overcommit", "mem-lock=on"]
        }
        if let kernelBoot = configuration.kernelBoot {
            arguments += ["-kernel", kernelBoot.kernel]
            if let initrd = kernelBoot.initrd { arguments += ["-initrd", initrd] }
            if let append = kernelBoot.append { arguments += ["-append", append] }
        }
        arguments += driveArguments
        arguments += networkArguments
        arguments += integrationArguments
        if hasTPM { arguments += SoftwareTPM.qemuArguments(paths, escape: escape) }
        if let migrationTLSDirectory {
            arguments += ["-object", "tls-creds-x509,id=\(Self.migrationTLSObject),dir=\(escape(migrationTLSDirectory)),"
                          + "endpoint=server,verify-peer=on"]
        }
        // The processors wait for viridiand (change tracking is set up before the guest writes), and a
        // guest that shuts down leaves the worker for viridiand to end, after it saved that tracking.
        arguments += ["-S", "-no-shutdown"]
        if incoming || migrationTLSDirectory != nil { arguments += ["-incoming", "defer"] }
        return arguments
    }

    /// True when the VM gets a virtual TPM (Generation 2 only, as in Hyper-V).
    public var hasTPM: Bool { configuration.tpm && configuration.generation == .two }

    private var machineArguments: [String] {
        var arguments: [String]
        switch accelerator {
        case .kvm: arguments = ["-accel", "kvm", "-cpu", "host"]
        case .tcg: arguments = ["-accel", "tcg,thread=multi"]
        }
        let machineType = configuration.machineType ?? QEMUMachineTypes.alias(for: configuration.generation)
        switch configuration.generation {
        case .one:
            arguments += ["-machine", machineType]
        case .two:
            let dumpOption = shieldingKeyFile == nil ? "" : ",dump-guest-core=off"
            arguments += ["-machine", (configuration.secureBoot ? "\(machineType),smm=on" : machineType) + dumpOption]
            if let firmware {
                arguments += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=\(escape(firmware.code))",
                              "-drive", "if=pflash,format=raw,unit=1,file=\(escape(paths.nvram))"]
            }
            if configuration.secureBoot {
                arguments += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
            }
        }
        return arguments
    }

    private var driveArguments: [String] {
        var arguments: [String] = []
        let scsiControllers = Set(configuration.drives.filter { $0.controllerType == .scsi }.map(\.controllerNumber))
        for controller in scsiControllers.sorted() {
            arguments += ["-device", "virtio-scsi-pci,id=scsi\(controller)"]
        }
        for (index, drive) in configuration.drives.enumerated() where drive.kind != .vacated {
            var device: [String] = []
            if drive.kind == .dvd, let path = drive.path {
                arguments += ["-blockdev", "driver=file,filename=\(escape(path)),node-name=file\(index),read-only=on",
                              "-blockdev", "driver=raw,file=file\(index),node-name=drive\(index),read-only=on"]
                device.append("drive=drive\(index)")
            } else if let nodes = diskNodes[index] {
                arguments += blockNodes(nodes)
                device.append("drive=drive\(index)")
            }
            switch drive.controllerType {
            case .ide:
                device.insert(drive.kind == .dvd ? "ide-cd" : "ide-hd", at: 0)
                device += ["bus=ide.\(drive.controllerNumber)", "unit=\(drive.location)"]
            case .scsi:
                device.insert(drive.kind == .dvd ? "scsi-cd" : "scsi-hd", at: 0)
                device += ["bus=scsi\(drive.controllerNumber).0", "channel=0", "scsi-id=\(drive.location)", "lun=0"]
            }
            if let bootIndex = bootIndex(of: drive) { device.append("bootindex=\(bootIndex)") }
            device.append("id=disk\(index)")
            arguments += ["-device", device.joined(separator: ",")]
        }
        return arguments
    }

    private var networkArguments: [String] {
        var arguments: [String] = []
        if configuration.generation == .two {
            for slot in 0..<HyperVLimits.maximumNetworkAdapters {
                arguments += ["-device", NetworkAdapterDevice.rootPort(slot: slot)]
            }
        }
        for (index, adapter) in configuration.networkAdapters.enumerated() {
            let device = NetworkAdapterDevice(adapter: adapter, index: index, generation: configuration.generation,
                                              processorCount: configuration.processorCount, tap: taps[index])
            var deviceOptions = device.deviceOptions.map { "\($0.key)=\($0.value)" }
            if index == networkBootAdapter, let position = configuration.bootOrder.firstIndex(of: .network) {
                deviceOptions.append("bootindex=\(position + 1)")
            }
            arguments += ["-netdev", device.netdevArgument,
                          "-device", ([device.driver] + deviceOptions).joined(separator: ",")]
        }
        return arguments
    }

    /// The adapter that boots over PXE (its iPXE option ROM, from Debian's `ipxe-qemu`): Generation 2's
    /// first adapter (synthetic), Generation 1's first legacy adapter — as in Hyper-V, a Generation 1
    /// synthetic adapter does not boot.
    private var networkBootAdapter: Int? {
        configuration.generation == .two ? (configuration.networkAdapters.isEmpty ? nil : 0)
            : configuration.networkAdapters.firstIndex { $0.kind == .legacy }
    }

    /// One virtio-serial controller; a port per enabled integration service and one for qemu-guest-agent.
    private var integrationArguments: [String] {
        var arguments = ["-device", "virtio-serial-pci,id=\(IntegrationPortNames.bus)"]
        for service in configuration.integrationServices.sorted() {
            let names = IntegrationPortNames(service: service)
            arguments += ["-chardev", "socket,id=\(names.chardev),path=\(escape(paths.integrationSocket(service))),server=on,wait=off",
                          "-device", "virtserialport,bus=\(IntegrationPortNames.bus).0,nr=\(names.portNumber),chardev=\(names.chardev),"
                              + "name=\(service.portName),id=\(names.device)"]
        }
        arguments += ["-chardev", "socket,id=qga,path=\(escape(paths.guestAgentSocket)),server=on,wait=off",
                      "-device", "virtserialport,bus=\(IntegrationPortNames.bus).0,nr=\(IntegrationPortNames.qemuGuestAgentPortNumber),chardev=qga,"
                          + "name=\(IntegrationPortNames.qemuGuestAgentPort),id=qgaport"]
        return arguments
    }

    /// `-blockdev` nodes for a disk's chain (`DiskChainNodes`), its parents first, each with its
    /// recorded format; a qcow2 names its recorded parent as `backing`, or none (`backing=` is null).
    private func blockNodes(_ chain: DiskChainNodes) -> [String] {
        var arguments: [String] = []
        for node in chain.nodes {
            let readOnly = node.readOnly ? ",read-only=on" : ""
            var format = "driver=\(node.format.qemuName),file=\(node.fileNodeName),node-name=\(node.nodeName)\(readOnly)"
            if node.format == .qcow2 { format += ",backing=\(node.backing ?? "")" }
            if node.format == .qcow2, shieldingKeyFile != nil { format += ",encrypt.format=luks,encrypt.key-secret=\(ShieldingKey.secretID)" }
            arguments += ["-blockdev", "driver=\(node.protocolDriver),filename=\(escape(node.path)),node-name=\(node.fileNodeName)\(readOnly)",
                          "-blockdev", format]
        }
        return arguments
    }

    /// The boot index of the first drive of each kind, following the VM's boot order.
    /// Indexes start at 1: QEMU gives 0 to a direct kernel boot.
    private func bootIndex(of drive: DriveAttachment) -> Int? {
        let wanted: BootDevice = drive.kind == .dvd ? .dvd : .hardDisk
        guard let position = configuration.bootOrder.firstIndex(of: wanted),
              configuration.drives.first(where: { $0.kind == drive.kind }) == drive
        else { return nil }
        return position + 1
    }

    /// QEMU option values separate with commas; a literal comma is written twice.
    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: ",", with: ",,")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
