/// The integration services, each on its own virtio-serial port `org.viridian.ic.<name>`.
public enum IntegrationService: String, Sendable, Codable, CaseIterable, Comparable {
    case heartbeat, shutdown, timesync, kvp, vss, fcopy, session

    /// The virtio-serial port name the guest looks for.
    public var portName: String { "org.viridian.ic.\(rawValue)" }

    /// The service versions this build speaks, oldest first.
    public var supportedVersions: [Int] { [1] }

    /// Hyper-V's name for the service, as `Get-VMIntegrationService` shows it.
    public var hyperVName: String {
        switch self {
        case .heartbeat: "Heartbeat"
        case .shutdown: "Guest Shutdown"
        case .timesync: "Time Synchronization"
        case .kvp: "Key-Value Pair Exchange"
        case .vss: "VSS"
        case .fcopy: "Guest Service Interface"
        case .session: "Direct Session"
        }
    }

    /// Whether a new VM has the service on: everything but file copy, as in Hyper-V.
    public var enabledByDefault: Bool { self != .fcopy }

    /// The name Viridian's guest agent gives in negotiation.
    public static let viridianAgentName = "viridian-guest"

    /// The services a new VM has on.
    public static let defaultEnabled = Set(allCases.filter(\.enabledByDefault))

    /// The service whose port is named `portName`, if any.
    public init?(portName: String) {
        guard portName.hasPrefix("org.viridian.ic.") else { return nil }
        self.init(rawValue: String(portName.dropFirst("org.viridian.ic.".count)))
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}
