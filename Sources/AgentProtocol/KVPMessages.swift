/// Hyper-V's Data Exchange limits, which Viridian keeps.
public enum KVPLimits {
    /// Longest key in bytes (UTF-8).
    public static let maximumKeyBytes = 512
    /// Longest value in bytes (UTF-8).
    public static let maximumValueBytes = 2048
    /// Most items in one pool.
    public static let maximumItems = 200

    /// Why `key`/`value` break the limits, or nil when they fit.
    public static func violation(key: String, value: String) -> String? {
        if key.isEmpty { return "a KVP key must not be empty" }
        if key.utf8.count > maximumKeyBytes { return "KVP key longer than \(maximumKeyBytes) bytes" }
        if value.utf8.count > maximumValueBytes { return "KVP value of '\(key.prefix(64))' longer than \(maximumValueBytes) bytes" }
        return nil
    }
}

/// The intrinsic items a guest reports, by Hyper-V's names.
public enum KVPIntrinsicKey: String, CaseIterable, Sendable {
    case fullyQualifiedDomainName = "FullyQualifiedDomainName"
    case osName = "OSName"
    case osVersion = "OSVersion"
    case osKernelVersion = "OSKernelVersion"
    case processorArchitecture = "ProcessorArchitecture"
    case integrationServicesVersion = "IntegrationServicesVersion"
    case networkAddressIPv4 = "NetworkAddressIPv4"
    case networkAddressIPv6 = "NetworkAddressIPv6"
}

/// Guest → host on `kvp`: every guest item (intrinsic and the guest's user pool), sent when they change.
public struct GuestItems: AgentMessage {
    public static let type = "guest-items"
    public var intrinsic: [String: String]
    public var user: [String: String]

    public init(intrinsic: [String: String], user: [String: String]) {
        self.intrinsic = intrinsic
        self.user = user
    }
}

/// Host → guest on `kvp`: the whole host pool, sent on connect and after every change.
public struct HostItems: AgentMessage {
    public static let type = "host-items"
    public var items: [String: String]

    public init(items: [String: String]) { self.items = items }
}
