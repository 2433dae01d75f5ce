/// The kind of a virtual switch, as in Hyper-V.
public enum SwitchType: String, Codable, Sendable, CaseIterable {
    /// A bridge that takes over a host NIC: VMs reach the physical network.
    case external = "External"
    /// A bridge with a host interface: the host and the VMs talk.
    case `internal` = "Internal"
    /// A bridge only the VMs see.
    case `private` = "Private"
    /// The rootless "Default Switch": QEMU user networking with NAT.
    case nat = "NAT"
}

/// `GET /v1/switches`: a virtual switch.
public struct VirtualSwitchInfo: Codable, Sendable, Equatable {
    public var name: String
    public var type: SwitchType
    /// The Linux bridge behind the switch; nil for the NAT switch.
    public var bridge: String?
    /// External: the host NIC the switch took over.
    public var adapter: String?
    /// External: the host keeps its addresses on the switch.
    public var allowManagementOS: Bool
    /// Internal: the host's address on the switch (CIDR), if any.
    public var hostAddress: String?
    public var mtu: Int
    public var notes: String
    /// Adapters of VMs on this host connected to the switch.
    public var connectedAdapters: Int
    /// Whether the bridge exists right now, or why not.
    public var status: String

    public init(name: String, type: SwitchType, bridge: String?, adapter: String?, allowManagementOS: Bool,
                hostAddress: String?, mtu: Int, notes: String, connectedAdapters: Int, status: String) {
        self.name = name
        self.type = type
        self.bridge = bridge
        self.adapter = adapter
        self.allowManagementOS = allowManagementOS
        self.hostAddress = hostAddress
        self.mtu = mtu
        self.notes = notes
        self.connectedAdapters = connectedAdapters
        self.status = status
    }
}

/// `POST /v1/switches`.
public struct NewSwitchRequest: Codable, Sendable {
    public var name: String
    public var type: SwitchType
    public var adapter: String?
    public var allowManagementOS: Bool?
    public var hostAddress: String?
    public var mtu: Int?
    public var notes: String?

    public init(name: String, type: SwitchType, adapter: String? = nil, allowManagementOS: Bool? = nil,
                hostAddress: String? = nil, mtu: Int? = nil, notes: String? = nil) {
        self.name = name
        self.type = type
        self.adapter = adapter
        self.allowManagementOS = allowManagementOS
        self.hostAddress = hostAddress
        self.mtu = mtu
        self.notes = notes
    }
}

/// `PATCH /v1/switches/{name}`: what to change; nil leaves a value alone.
public struct SetSwitchRequest: Codable, Sendable {
    public var mtu: Int?
    public var notes: String?

    public init(mtu: Int? = nil, notes: String? = nil) {
        self.mtu = mtu
        self.notes = notes
    }
}

/// A kernel or host feature virtual switches need, and whether it is usable here.
public struct HostNetworkFeature: Codable, Sendable, Equatable {
    public var name: String
    public var usable: Bool
    /// What it is used for, or why it is not usable.
    public var detail: String

    public init(name: String, usable: Bool, detail: String) {
        self.name = name
        self.usable = usable
        self.detail = detail
    }
}

/// Namespace for switch name rules.
public enum SwitchName {
    /// Throws unless `name` is a valid switch name: the one name rule (`NameRule`), with single
    /// spaces between words as Hyper-V allows ("Default Switch").
    public static func validate(_ name: String) throws {
        try NameRule.validate(name, what: "switch name", spaces: true)
    }
}
