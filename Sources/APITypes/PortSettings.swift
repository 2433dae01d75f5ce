/// Whether a port copies its traffic to a monitoring port (Hyper-V's port mirroring mode).
public enum PortMirroring: String, Codable, Sendable, CaseIterable {
    case none = "None"
    /// The port's traffic, both directions, is copied to every Destination port on the same switch.
    case source = "Source"
    /// The port receives copies of the Source ports' traffic.
    case destination = "Destination"
}

/// A port's VLAN: untagged (no VLAN), access (untagged frames in one VLAN) or trunk (tagged frames
/// of allowed VLANs, untagged frames in the native VLAN).
public enum VLANMode: String, Codable, Sendable {
    case untagged = "Untagged"
    case access = "Access"
    case trunk = "Trunk"
}

/// The VLAN setting of a network adapter.
public struct VLANSetting: Codable, Sendable, Equatable {
    public static let validIDs = 1...4094

    public var mode: VLANMode
    /// Access mode: the VLAN the adapter's untagged frames belong to.
    public var accessID: Int?
    /// Trunk mode: the VLANs whose tagged frames pass.
    public var allowedIDs: [Int]
    /// Trunk mode: the VLAN untagged frames belong to; nil drops untagged frames.
    public var nativeID: Int?

    public init(mode: VLANMode, accessID: Int? = nil, allowedIDs: [Int] = [], nativeID: Int? = nil) {
        self.mode = mode
        self.accessID = accessID
        self.allowedIDs = allowedIDs
        self.nativeID = nativeID
    }

    public static let untagged = VLANSetting(mode: .untagged)

    /// Only `mode` is required (an access VLAN has no allowed list), as the API document says.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mode = try container.decode(VLANMode.self, forKey: .mode)
        accessID = try container.decodeIfPresent(Int.self, forKey: .accessID)
        allowedIDs = try container.decodeIfPresent([Int].self, forKey: .allowedIDs) ?? []
        nativeID = try container.decodeIfPresent(Int.self, forKey: .nativeID)
    }

    private enum CodingKeys: String, CodingKey { case mode, accessID, allowedIDs, nativeID }

    /// Throws unless the ids fit the mode and 1–4094.
    public func validate() throws {
        let ids = [accessID, nativeID].compactMap { $0 } + allowedIDs
        if let bad = ids.first(where: { !Self.validIDs.contains($0) }) {
            throw ViridianError(.invalidArgument, "VLAN id \(bad) is outside 1–4094")
        }
        switch mode {
        case .untagged:
            guard ids.isEmpty else { throw ViridianError(.invalidArgument, "an untagged adapter has no VLAN ids") }
        case .access:
            guard accessID != nil, allowedIDs.isEmpty, nativeID == nil else {
                throw ViridianError(.invalidArgument, "access mode takes exactly one VLAN id (--vlan-access ID)")
            }
        case .trunk:
            guard !allowedIDs.isEmpty, accessID == nil else {
                throw ViridianError(.invalidArgument, "trunk mode needs the allowed VLANs (--vlan-trunk ID,ID…)")
            }
            guard allowedIDs.count <= 64 else { throw ViridianError(.invalidArgument, "a trunk allows at most 64 VLANs") }
        }
    }

    /// `Access 10`, `Trunk 10,20 (native 1)`, `Untagged`.
    public var summary: String {
        switch mode {
        case .untagged: return "Untagged"
        case .access: return "Access \(accessID ?? 0)"
        case .trunk: return "Trunk \(allowedIDs.map(String.init).joined(separator: ","))" + (nativeID.map { " (native \($0))" } ?? "")
        }
    }
}

/// The port features of a network adapter, as Hyper-V's `Set-VMNetworkAdapter` knows them.
/// Every value here acts on packets (nftables, tc, the tap and virtio-net), or — for SR-IOV, VMQ and
/// IPsec offload, which need NIC hardware — is reported with its effective state by `vm nic list`.
public struct PortSettings: Codable, Sendable, Equatable {
    /// Off: frames whose source MAC is not the adapter's are dropped.
    public var macAddressSpoofing: Bool = false
    /// On: DHCP server messages from the VM are dropped.
    public var dhcpGuard: Bool = false
    /// On: router advertisements and redirects from the VM are dropped.
    public var routerGuard: Bool = false
    public var vlan: VLANSetting = .untagged
    /// Cap on the VM's outgoing traffic, bits per second; nil = none.
    public var maximumBandwidth: Int64?
    public var portMirroring: PortMirroring = .none
    /// The adapter's MTU; nil = the switch's.
    public var mtu: Int?
    /// virtio-net queue pairs (vRSS / VMMQ); nil = one per virtual processor, at most 8.
    public var queues: Int?
    /// Checksum offload (virtio-net `csum` / `guest_csum`).
    public var checksumOffload: Bool = true
    /// Segmentation offload (TSO / UFO / GSO in both directions).
    public var segmentationOffload: Bool = true
    /// SR-IOV weight; 0 = off (Hyper-V's default).
    public var iovWeight: Int = 0
    /// VMQ weight; 0 = off, 100 = Hyper-V's default.
    public var vmqWeight: Int = 100
    /// IPsec task offload: the most security associations to offload; 0 = off, 512 = Hyper-V's default.
    public var ipsecOffloadMaximumSecurityAssociations: Int = 512

    public init() {}

    public static let maximumQueues = 8
    public static let mtuRange = 576...9000

    /// Throws unless `mtu` is 576–9000 (jumbo frames up to 9000, as Hyper-V's "Jumbo Packet").
    public static func validateMTU(_ mtu: Int) throws {
        guard mtuRange.contains(mtu) else {
            throw ViridianError(.invalidArgument, "the MTU must be \(mtuRange.lowerBound) to \(mtuRange.upperBound), not \(mtu)")
        }
    }

    /// Throws unless every value is in range.
    public func validate() throws {
        try vlan.validate()
        if let maximumBandwidth, !(100_000...100_000_000_000).contains(maximumBandwidth) {
            throw ViridianError(.invalidArgument, "the maximum bandwidth must be 100 kbit/s to 100 Gbit/s (in bits per second)")
        }
        if let mtu { try Self.validateMTU(mtu) }
        if let queues, !(1...Self.maximumQueues).contains(queues) {
            throw ViridianError(.invalidArgument, "queues must be 1 to \(Self.maximumQueues)")
        }
        guard (0...100).contains(iovWeight), (0...100).contains(vmqWeight) else {
            throw ViridianError(.invalidArgument, "IOV and VMQ weights are 0 to 100")
        }
        guard (0...4096).contains(ipsecOffloadMaximumSecurityAssociations) else {
            throw ViridianError(.invalidArgument, "the IPsec offload limit is 0 to 4096 security associations")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case macAddressSpoofing, dhcpGuard, routerGuard, vlan, maximumBandwidth, portMirroring
        case mtu, queues, checksumOffload, segmentationOffload, iovWeight, vmqWeight, ipsecOffloadMaximumSecurityAssociations
    }

    /// Decodes, giving absent keys their defaults (adapters stored before port features existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        macAddressSpoofing = try container.decodeIfPresent(Bool.self, forKey: .macAddressSpoofing) ?? false
        dhcpGuard = try container.decodeIfPresent(Bool.self, forKey: .dhcpGuard) ?? false
        routerGuard = try container.decodeIfPresent(Bool.self, forKey: .routerGuard) ?? false
        vlan = try container.decodeIfPresent(VLANSetting.self, forKey: .vlan) ?? .untagged
        maximumBandwidth = try container.decodeIfPresent(Int64.self, forKey: .maximumBandwidth)
        portMirroring = try container.decodeIfPresent(PortMirroring.self, forKey: .portMirroring) ?? .none
        mtu = try container.decodeIfPresent(Int.self, forKey: .mtu)
        queues = try container.decodeIfPresent(Int.self, forKey: .queues)
        checksumOffload = try container.decodeIfPresent(Bool.self, forKey: .checksumOffload) ?? true
        segmentationOffload = try container.decodeIfPresent(Bool.self, forKey: .segmentationOffload) ?? true
        iovWeight = try container.decodeIfPresent(Int.self, forKey: .iovWeight) ?? 0
        vmqWeight = try container.decodeIfPresent(Int.self, forKey: .vmqWeight) ?? 100
        ipsecOffloadMaximumSecurityAssociations = try container.decodeIfPresent(
            Int.self, forKey: .ipsecOffloadMaximumSecurityAssociations) ?? 512
    }
}
