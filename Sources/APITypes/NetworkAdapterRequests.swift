/// `POST /v1/vms/{name}/nics`: a new adapter; hot-added when the VM runs.
public struct AddNetworkAdapterRequest: Codable, Sendable {
    public var switchName: String
    public var kind: NetworkAdapterKind?
    /// A static MAC; nil takes one from the host's pool.
    public var macAddress: String?
    public var settings: SetNetworkAdapterRequest?

    public init(switchName: String, kind: NetworkAdapterKind? = nil, macAddress: String? = nil,
                settings: SetNetworkAdapterRequest? = nil) {
        self.switchName = switchName
        self.kind = kind
        self.macAddress = macAddress
        self.settings = settings
    }
}

/// `PATCH /v1/vms/{name}/nics/{index}`: what to change; nil leaves a value alone.
public struct SetNetworkAdapterRequest: Codable, Sendable {
    public var switchName: String?
    /// A static MAC, or `dynamic` for a new one from the pool.
    public var macAddress: String?
    public var macAddressSpoofing: Bool?
    public var dhcpGuard: Bool?
    public var routerGuard: Bool?
    public var vlan: VLANSetting?
    /// Bits per second; 0 removes the cap.
    public var maximumBandwidth: Int64?
    public var portMirroring: PortMirroring?
    /// 0 returns to the switch's MTU.
    public var mtu: Int?
    /// 0 returns to one queue per virtual processor.
    public var queues: Int?
    public var checksumOffload: Bool?
    public var segmentationOffload: Bool?
    public var iovWeight: Int?
    public var vmqWeight: Int?
    public var ipsecOffloadMaximumSecurityAssociations: Int?

    public init() {}

    /// `settings` with this request's values applied.
    public func applied(to settings: PortSettings) -> PortSettings {
        var result = settings
        if let macAddressSpoofing { result.macAddressSpoofing = macAddressSpoofing }
        if let dhcpGuard { result.dhcpGuard = dhcpGuard }
        if let routerGuard { result.routerGuard = routerGuard }
        if let vlan { result.vlan = vlan }
        if let maximumBandwidth { result.maximumBandwidth = maximumBandwidth == 0 ? nil : maximumBandwidth }
        if let portMirroring { result.portMirroring = portMirroring }
        if let mtu { result.mtu = mtu == 0 ? nil : mtu }
        if let queues { result.queues = queues == 0 ? nil : queues }
        if let checksumOffload { result.checksumOffload = checksumOffload }
        if let segmentationOffload { result.segmentationOffload = segmentationOffload }
        if let iovWeight { result.iovWeight = iovWeight }
        if let vmqWeight { result.vmqWeight = vmqWeight }
        if let ipsecOffloadMaximumSecurityAssociations {
            result.ipsecOffloadMaximumSecurityAssociations = ipsecOffloadMaximumSecurityAssociations
        }
        return result
    }
}

/// A hardware feature an adapter asked for and what it got.
public struct EffectiveFeature: Codable, Sendable, Equatable {
    public var name: String
    public var requested: String
    /// `On`, `Off`, or `Unavailable`.
    public var effective: String
    public var reason: String?

    public init(name: String, requested: String, effective: String, reason: String?) {
        self.name = name
        self.requested = requested
        self.effective = effective
        self.reason = reason
    }
}

/// `GET /v1/vms/{name}/nics`: an adapter with its settings and what is in effect.
public struct NetworkAdapterInfo: Codable, Sendable {
    public var index: Int
    public var adapter: NetworkAdapter
    /// The tap on the switch's bridge while the VM runs.
    public var tap: String?
    /// The MTU and queue count in effect.
    public var mtu: Int
    public var queues: Int
    /// SR-IOV, VMQ and IPsec task offload: requested and effective, with the reason when they differ.
    public var hardwareFeatures: [EffectiveFeature]

    public init(index: Int, adapter: NetworkAdapter, tap: String?, mtu: Int, queues: Int, hardwareFeatures: [EffectiveFeature]) {
        self.index = index
        self.adapter = adapter
        self.tap = tap
        self.mtu = mtu
        self.queues = queues
        self.hardwareFeatures = hardwareFeatures
    }
}
