/// The host facts that bound a VM's configuration.
public struct HostCapacity: Sendable {
    public var logicalProcessors: Int
    public var memoryMiB: Int

    public init(logicalProcessors: Int, memoryMiB: Int) {
        self.logicalProcessors = logicalProcessors
        self.memoryMiB = memoryMiB
    }
}

extension VMName {
    /// Throws unless `name` is a valid VM name (`NameRule`): 1–64 letters, digits, `.`, `_`, `-`,
    /// starting with a letter or digit (so it is safe as a file name and in a URL).
    public static func validate(_ name: String) throws {
        try NameRule.validate(name, what: "VM name")
    }
}

/// Namespace for VM name rules.
public enum VMName {}

extension VMConfiguration {
    /// Throws the first rule this configuration breaks, with a message naming the limit.
    public func validate(host: HostCapacity) throws {
        try validateProcessorsAndMemory(host: host)
        try validateDrives()
        try validateNetworkAdapters()
        if secureBoot && generation == .one {
            throw ViridianError(.invalidArgument, "Secure Boot needs a Generation 2 VM (UEFI)")
        }
        if tpm && generation == .one {
            throw ViridianError(.invalidArgument, "a virtual TPM needs a Generation 2 VM (UEFI), as in Hyper-V")
        }
        if shielded && !tpm {
            throw ViridianError(.invalidArgument, "a shielded VM keeps its virtual TPM (its state is encrypted with the VM's key)")
        }
        if shielded && !passThroughDevices.isEmpty {
            throw ViridianError(.invalidArgument, "a shielded VM cannot have pass-through disks: their data would not be encrypted")
        }
        if Set(bootOrder).count != bootOrder.count {
            throw ViridianError(.invalidArgument, "the boot order lists a device twice")
        }
    }

    private func validateProcessorsAndMemory(host: HostCapacity) throws {
        let maxCPUs = min(HyperVLimits.maximumProcessors, host.logicalProcessors)
        guard (1...maxCPUs).contains(processorCount) else {
            throw ViridianError(.invalidArgument,
                                "processor count \(processorCount) is out of range: this host allows 1 to \(maxCPUs) (its logical processors)")
        }
        let maxMemory = min(HyperVLimits.maximumMemoryMiB(generation), host.memoryMiB)
        guard (HyperVLimits.minimumMemoryMiB...maxMemory).contains(memoryMiB) else {
            throw ViridianError(.invalidArgument,
                                "startup memory \(memoryMiB) MiB is out of range: this host allows \(HyperVLimits.minimumMemoryMiB) MiB to \(maxMemory) MiB")
        }
        guard memoryMiB % HyperVLimits.memoryAlignmentMiB == 0 else {
            throw ViridianError(.invalidArgument, "startup memory must be a multiple of \(HyperVLimits.memoryAlignmentMiB) MiB")
        }
    }

    private func validateDrives() throws {
        var taken = Set<String>()
        for drive in drives where drive.kind != .vacated {
            let controllers = HyperVLimits.controllers(drive.controllerType, generation: generation)
            if controllers == 0 {
                throw ViridianError(.invalidArgument,
                                    "Generation \(generation.rawValue) VMs have no \(drive.controllerType.rawValue) controller; use SCSI")
            }
            guard (0..<controllers).contains(drive.controllerNumber) else {
                throw ViridianError(.invalidArgument,
                                    "\(drive.controllerType.rawValue) controller \(drive.controllerNumber) does not exist: controllers are 0 to \(controllers - 1)")
            }
            let locations = HyperVLimits.locations(drive.controllerType)
            guard (0..<locations).contains(drive.location) else {
                throw ViridianError(.invalidArgument,
                                    "location \(drive.location) is beyond \(drive.controllerType.rawValue) controller limits: locations are 0 to \(locations - 1)")
            }
            guard taken.insert(drive.locationName).inserted else {
                throw ViridianError(.conflict, "\(drive.locationName) is already taken")
            }
            if drive.kind == .dvd && drive.controllerType == .scsi && generation == .one {
                throw ViridianError(.invalidArgument, "Generation 1 DVD drives attach to IDE, not SCSI")
            }
            if drive.kind == .hardDisk && drive.path == nil {
                throw ViridianError(.invalidArgument, "a hard disk at \(drive.locationName) needs a path")
            }
        }
        let paths = drives.compactMap(\.path)
        if Set(paths).count != paths.count {
            throw ViridianError(.conflict, "the same file is attached twice")
        }
    }

    private func validateNetworkAdapters() throws {
        guard networkAdapters.count <= HyperVLimits.maximumNetworkAdapters else {
            throw ViridianError(.invalidArgument, "a VM has at most \(HyperVLimits.maximumNetworkAdapters) network adapters")
        }
        let legacy = networkAdapters.filter { $0.kind == .legacy }.count
        if legacy > 0 && generation == .two {
            throw ViridianError(.invalidArgument, "Generation 2 VMs support synthetic network adapters only")
        }
        guard legacy <= HyperVLimits.maximumLegacyNetworkAdapters else {
            throw ViridianError(.invalidArgument, "a VM has at most \(HyperVLimits.maximumLegacyNetworkAdapters) legacy network adapters")
        }
        for adapter in networkAdapters where !MACAddress.isValid(adapter.macAddress) {
            throw ViridianError(.invalidArgument, "'\(adapter.macAddress)' is not a unicast MAC address like 52:54:00:12:34:56")
        }
        let macs = networkAdapters.map { $0.macAddress.lowercased() }
        if Set(macs).count != macs.count {
            throw ViridianError(.conflict, "two network adapters of the VM have the same MAC address")
        }
        for adapter in networkAdapters {
            try adapter.settings.validate()
            if let queues = adapter.settings.queues, queues > processorCount {
                throw ViridianError(.invalidArgument,
                                    "an adapter has at most one queue per virtual processor (\(processorCount)), not \(queues)")
            }
            if adapter.kind == .legacy && (adapter.settings.queues ?? 1) > 1 {
                throw ViridianError(.invalidArgument, "legacy network adapters have one queue")
            }
        }
    }
}

/// MAC address rules.
public enum MACAddress {
    /// True for `xx:xx:xx:xx:xx:xx` in hex with the multicast bit clear.
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }),
              let first = UInt8(parts[0], radix: 16)
        else { return false }
        return first & 1 == 0
    }
}

/// Namespace for host and peer name rules.
public enum HostName {
    /// Throws unless `name` is 1–63 characters of letters, digits, `.` and `-`, starting with a
    /// letter or digit (it is a DNS name in the host's certificate).
    public static func validate(_ name: String, what: String = "host name") throws {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
        }
        guard (1...63).contains(name.count), allowed, let first = name.first, first.isLetter || first.isNumber else {
            throw ViridianError(.invalidArgument,
                                "\(what) '\(name.prefix(70))' is invalid: use 1–63 letters, digits, '.' and '-', starting with a letter or digit")
        }
    }
}

/// A TCP endpoint written `HOST:PORT` (`[v6]:PORT` for IPv6).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`. - Throws: `invalidArgument` with the expected form.
    public init(parsing text: String) throws {
        let bad = ViridianError(.invalidArgument, "'\(text)' is not an address: write HOST:PORT, for example 192.0.2.10:7600")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { throw bad }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { throw bad }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
