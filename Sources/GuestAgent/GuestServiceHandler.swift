import AgentProtocol

/// The guest side of one integration service.
protocol GuestServiceHandler: Sendable {
    /// Negotiation succeeded; the service may start talking.
    func negotiated(_ welcome: Welcome, on port: GuestPort)
    /// A frame after negotiation.
    func handle(_ frame: Frame, on port: GuestPort)
    /// The host went away or the port was removed; drop per-connection state.
    func hostDisconnected(_ port: GuestPort)
}

extension GuestServiceHandler {
    func negotiated(_ welcome: Welcome, on port: GuestPort) {}
    func hostDisconnected(_ port: GuestPort) {}
}
