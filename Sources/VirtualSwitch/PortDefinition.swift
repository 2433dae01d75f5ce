import APITypes

/// One VM adapter plugged into a switch: which tap, which MAC, which features.
public struct PortDefinition: Sendable, Equatable {
    public var vmID: String
    public var vmName: String
    public var index: Int
    public var macAddress: String
    public var switchName: String
    public var settings: PortSettings
    /// Queue pairs of the tap (must match virtio-net's `queues`).
    public var queues: Int

    public init(vmID: String, vmName: String, index: Int, macAddress: String, switchName: String,
                settings: PortSettings, queues: Int) {
        self.vmID = vmID
        self.vmName = vmName
        self.index = index
        self.macAddress = macAddress
        self.switchName = switchName
        self.settings = settings
        self.queues = queues
    }

    /// Identifies the port among all ports of the host.
    public var key: PortKey { PortKey(vmID: vmID, index: index) }
}

/// A VM id and adapter index.
public struct PortKey: Hashable, Sendable {
    public var vmID: String
    public var index: Int

    public init(vmID: String, index: Int) {
        self.vmID = vmID
        self.index = index
    }
}
