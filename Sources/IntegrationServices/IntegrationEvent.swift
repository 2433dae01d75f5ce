import AgentProtocol

/// What a VM's integration services report to the daemon (which logs and stores it).
public enum IntegrationEvent: Sendable {
    /// A service negotiated; carries the guest's release and agent.
    case negotiated(IntegrationService, Negotiated)
    case heartbeatLost
    case heartbeatRestored
    /// The guest changed the application health it reports.
    case health(GuestHealth, String?)
    /// The guest thawed its file systems by itself after the freeze timed out.
    case autoThawed([String])
    /// The guest's clock was stepped by `skewNanoseconds`.
    case clockStepped(skewNanoseconds: Int64)
    /// The guest broke the protocol on a service; the host stopped listening for a while.
    case violation(IntegrationService, String)
    /// The guest's items changed more than the limits allow; the excess was dropped.
    case itemsRejected(String)
}
