import AgentProtocol

/// QEMU ids of an integration service's chardev and port device, shared by the command line and
/// the runtime hot-plug that enables or disables a service.
public struct IntegrationPortNames: Sendable {
    /// The virtio-serial controller's id.
    public static let bus = "vserial0"
    /// The port Debian's qemu-guest-agent opens.
    public static let qemuGuestAgentPort = "org.qemu.guest_agent.0"

    public let service: IntegrationService

    public init(service: IntegrationService) { self.service = service }

    /// The port number on the bus, fixed per service, so the device layout is the same whichever
    /// services are enabled or hot-plugged (a live migration needs both ends to match).
    public var portNumber: Int { (IntegrationService.allCases.firstIndex(of: service) ?? 0) + 1 }
    /// The qemu-guest-agent port's number, after every service's.
    public static let qemuGuestAgentPortNumber = IntegrationService.allCases.count + 1

    public var chardev: String { "ic-\(service.rawValue)" }
    public var device: String { "icport-\(service.rawValue)" }
}
