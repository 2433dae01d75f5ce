import AgentProtocol

/// The guest side of one integration service.
protocol GuestServiceHandler: Sendable {
    /// Negotiation succeeded; the service may start talking.
    func negotiated(_ welcome: Welcome, on port: GuestPort)
    /// A control message after negotiation.
    func handle(_ frame: Frame, on port: GuestPort)
    /// Bulk bytes (`.data` frames) on `channel` after negotiation; `bytes` is valid only during the call.
    func receive(_ bytes: UnsafeRawBufferPointer, channel: UInt32, on port: GuestPort)
    /// The host went away or the port was removed; drop per-connection state.
    func hostDisconnected(_ port: GuestPort)
}

extension GuestServiceHandler {
    func negotiated(_ welcome: Welcome, on port: GuestPort) {}
    func hostDisconnected(_ port: GuestPort) {}
    /// Services without bulk input ignore it.
    func receive(_ bytes: UnsafeRawBufferPointer, channel: UInt32, on port: GuestPort) {}
}
