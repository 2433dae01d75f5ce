import APITypes

/// What the fabric needs to build a switch's bridge.
public struct SwitchDefinition: Sendable, Equatable {
    public var name: String
    public var type: SwitchType
    public var adapter: String?
    public var allowManagementOS: Bool
    public var hostAddress: String?
    public var mtu: Int

    public init(name: String, type: SwitchType, adapter: String?, allowManagementOS: Bool, hostAddress: String?, mtu: Int) {
        self.name = name
        self.type = type
        self.adapter = adapter
        self.allowManagementOS = allowManagementOS
        self.hostAddress = hostAddress
        self.mtu = mtu
    }

    /// The MTU a switch gets unless told otherwise.
    public static let defaultMTU = 1500
}
