import AgentProtocol
import APITypes
import Foundation
import Logging
import Synchronization

/// A running VM's integration services on the host: one link per enabled service port, the
/// qemu-guest-agent fallback, the status `viridian vm ic` shows, and the operations the daemon
/// runs through them (shutdown, time, KVP, freeze, file copy, sessions).
public final class IntegrationHub: Sendable {
    /// Without a beat for this long, a heartbeat that was OK becomes Lost Communication.
    public static let heartbeatLostAfter: Duration = .seconds(5)
    /// Seconds between periodic clock corrections.
    public static let timeCorrectionInterval: Duration = .seconds(60)

    struct ServiceState {
        var enabled: Bool
        var negotiated: Negotiated?
        var everNegotiated = false
        /// How many times the service negotiated since the worker started.
        var negotiations = 0
        var violation: String?
    }

    struct State {
        var services: [IntegrationService: ServiceState] = [:]
        var lastBeat: ContinuousClock.Instant?
        var health: GuestHealth = .ok
        var healthReason: String?
        var heartbeatLost = false
        /// The guest's CPUs are stopped (paused, saving, switching over): silence is not a lost heartbeat.
        var guestPaused = false
        var guestIntrinsic: [String: String] = [:]
        var guestUser: [String: String] = [:]
        var hostItems: [String: String] = [:]
        var timeSkewNanoseconds: Int64?
        var frozen: [String]?
        var stopped = false
    }

    let vmName: String
    let hostRelease: String
    let logger: Logger
    let state = Mutex(State())
    private let links = Mutex<[IntegrationService: ServiceLink]>([:])
    private let socketPath: @Sendable (IntegrationService) -> String
    private let onEvent: @Sendable (IntegrationEvent) -> Void
    /// Passes an event to the daemon (extensions in other files report through this).
    func onEventRelay(_ event: IntegrationEvent) { onEvent(event) }
    private let monitor = Mutex<Task<Void, Never>?>(nil)
    /// The stock qemu-guest-agent, for guests without Viridian's agent.
    let fallback: GuestAgentFallback

    public init(vmName: String, enabled: Set<IntegrationService>, hostItems: [String: String], hostRelease: String,
                socketPath: @escaping @Sendable (IntegrationService) -> String, guestAgentSocket: String,
                logger: Logger, onEvent: @escaping @Sendable (IntegrationEvent) -> Void) {
        self.vmName = vmName
        self.hostRelease = hostRelease
        self.logger = logger
        self.socketPath = socketPath
        self.onEvent = onEvent
        fallback = GuestAgentFallback(socketPath: guestAgentSocket, logger: logger)
        state.withLock { state in
            for service in IntegrationService.allCases {
                state.services[service] = ServiceState(enabled: enabled.contains(service))
            }
            state.hostItems = hostItems
        }
    }

    /// Starts listening on every enabled port, the fallback, and the heartbeat and clock timers.
    public func start() {
        for service in IntegrationService.allCases where state.withLock({ $0.services[service]?.enabled == true }) {
            startLink(service)
        }
        fallback.start()
        let timers = Task { [weak self] in
            var sinceCorrection: Duration = .zero
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let self else { return }
                self.checkHeartbeat()
                sinceCorrection += .seconds(1)
                if sinceCorrection >= Self.timeCorrectionInterval {
                    sinceCorrection = .zero
                    _ = try? await self.synchronizeTime(.correct)
                }
            }
        }
        monitor.withLock { $0 = timers }
    }

    /// Stops every link (the worker is gone or the daemon is leaving).
    public func stop() {
        state.withLock { $0.stopped = true }
        monitor.withLock { $0?.cancel() }
        for link in links.withLock({ links in defer { links = [:] }; return Array(links.values) }) { link.stop() }
        fallback.stop()
    }

    /// Turns a service on or off on the host side (the daemon adds or removes the guest's port).
    public func setEnabled(_ service: IntegrationService, _ enabled: Bool) {
        state.withLock { state in
            state.services[service]?.enabled = enabled
            if !enabled {
                state.services[service]?.negotiated = nil
                state.services[service]?.everNegotiated = false
            }
        }
        if enabled { startLink(service) } else { links.withLock { $0.removeValue(forKey: service) }?.stop() }
    }

    /// The guest opened or closed a port (QMP `VSERPORT_CHANGE` with the port device's id):
    /// a closed port means its agent is gone.
    public func guestPortChanged(device: String, open: Bool) {
        guard !open, device.hasPrefix("icport-"),
              let service = IntegrationService(rawValue: String(device.dropFirst("icport-".count))) else { return }
        let heartbeatLost = state.withLock { state -> Bool in
            let wasUp = state.services[service]?.negotiated != nil
            state.services[service]?.negotiated = nil
            guard service == .heartbeat, wasUp, !state.heartbeatLost else { return false }
            state.heartbeatLost = true
            return true
        }
        if heartbeatLost { onEvent(.heartbeatLost) }
        // Requests in flight on that port would wait for an agent that is gone: end them.
        links.withLock { $0[service]?.connection }?.close()
    }

    private func startLink(_ service: IntegrationService) {
        let link = ServiceLink(service: service, socketPath: socketPath(service), hostRelease: hostRelease, logger: logger)
        links.withLock { links in
            links[service]?.stop()
            links[service] = link
        }
        link.start { [weak self] event in self?.handle(event, from: service) }
    }

    private func handle(_ event: ServiceLinkEvent, from service: IntegrationService) {
        switch event {
        case .negotiated(let negotiated):
            state.withLock { state in
                state.services[service]?.negotiated = negotiated
                state.services[service]?.everNegotiated = true
                state.services[service]?.negotiations += 1
                state.services[service]?.violation = nil
            }
            onEvent(.negotiated(service, negotiated))
            didNegotiate(service)
        case .message(let frame):
            handleMessage(frame, from: service)
        case .violation(let reason):
            state.withLock { $0.services[service]?.violation = reason; $0.services[service]?.negotiated = nil }
            onEvent(.violation(service, reason))
        case .disconnected:
            state.withLock { $0.services[service]?.negotiated = nil }
        }
    }

    /// Work to do once a service is up: send the host pool, set the clock.
    private func didNegotiate(_ service: IntegrationService) {
        switch service {
        case .kvp:
            Task { try? await self.sendHostItems() }
        case .timesync:
            Task { _ = try? await self.synchronizeTime(.set) }
        default:
            break
        }
    }

    private func handleMessage(_ frame: Frame, from service: IntegrationService) {
        switch (service, try? MessageCodec.type(of: frame)) {
        case (.heartbeat, Beat.type):
            guard let beat = try? MessageCodec.decode(Beat.self, from: frame) else { return }
            receiveBeat(beat)
        case (.kvp, GuestItems.type):
            guard let items = try? MessageCodec.decode(GuestItems.self, from: frame) else { return }
            receiveGuestItems(items)
        case (.vss, AutoThawed.type):
            guard let thawed = try? MessageCodec.decode(AutoThawed.self, from: frame) else { return }
            state.withLock { $0.frozen = nil }
            onEvent(.autoThawed(Array(thawed.filesystems.prefix(64))))
        default:
            logger.debug("ignored integration message", metadata: ["service": "\(service.rawValue)"])
        }
    }

    /// The connection of a negotiated service.
    func connection(_ service: IntegrationService) throws -> AgentConnection {
        let serviceState = state.withLock { $0.services[service] }
        guard serviceState?.enabled == true else {
            throw ViridianError(.invalidState, "the \(service.rawValue) integration service of VM '\(vmName)' is disabled "
                                + "(enable it with: viridian vm ic enable \(vmName) \(service.rawValue))")
        }
        guard serviceState?.negotiated != nil, let connection = links.withLock({ $0[service]?.connection }) else {
            throw ViridianError(.notResponding, "the guest in VM '\(vmName)' does not answer on the \(service.rawValue) service "
                                + "(is viridian-guest running? see: viridian vm ic \(vmName))")
        }
        return connection
    }

    /// The release the guest's agent negotiated on `service`, while it answers.
    public func negotiatedRelease(_ service: IntegrationService) -> String? {
        state.withLock { $0.services[service]?.negotiated?.release }
    }

    /// How many times `service` negotiated so far; a restarted agent raises it.
    public func negotiationCount(_ service: IntegrationService) -> Int {
        state.withLock { $0.services[service]?.negotiations ?? 0 }
    }

    /// Whether a service answers through Viridian's agent right now.
    func isNegotiated(_ service: IntegrationService) -> Bool {
        state.withLock { $0.services[service]?.negotiated != nil && $0.services[service]?.enabled == true }
    }
}
