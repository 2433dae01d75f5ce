import AgentProtocol
import APITypes

extension IntegrationHub {
    /// Every service's status, in Hyper-V's order.
    public func status() -> [IntegrationServiceStatus] {
        let snapshot = state.withLock { $0 }
        let fallbackAgent = fallback.agentDescription
        return IntegrationService.allCases.map { service in
            let serviceState = snapshot.services[service] ?? ServiceState(enabled: false)
            var primary: String
            var secondary: String?
            var agent = serviceState.negotiated?.agent
            if !serviceState.enabled {
                primary = IntegrationPrimaryStatus.disabled
            } else if let violation = serviceState.violation {
                primary = IntegrationPrimaryStatus.lostCommunication
                secondary = "protocol error: \(violation)"
            } else if serviceState.negotiated != nil {
                primary = IntegrationPrimaryStatus.ok
                secondary = detail(service, snapshot)
                if service == .heartbeat {
                    primary = heartbeatStatus(snapshot)
                    if snapshot.health == .degraded { secondary = snapshot.healthReason.map { "application: \($0)" } }
                }
            } else if let fallbackAgent, GuestAgentFallback.services.contains(service) {
                primary = IntegrationPrimaryStatus.ok
                agent = fallbackAgent
                secondary = "via \(fallbackAgent)"
            } else {
                primary = serviceState.everNegotiated ? IntegrationPrimaryStatus.lostCommunication : IntegrationPrimaryStatus.noContact
            }
            if service == .heartbeat, serviceState.enabled, serviceState.negotiated == nil, snapshot.heartbeatLost {
                primary = IntegrationPrimaryStatus.lostCommunication
            }
            return IntegrationServiceStatus(name: service.rawValue, displayName: service.hyperVName, enabled: serviceState.enabled,
                                            primaryStatus: primary, secondaryStatus: secondary,
                                            version: serviceState.negotiated?.serviceVersion,
                                            release: serviceState.negotiated?.release, agent: agent)
        }
    }

    /// The heartbeat's status: OK, Degraded, or Lost Communication once beats stop.
    private func heartbeatStatus(_ snapshot: State) -> String {
        if snapshot.heartbeatLost || snapshot.lastBeat == nil { return IntegrationPrimaryStatus.lostCommunication }
        return snapshot.health == .degraded ? IntegrationPrimaryStatus.degraded : IntegrationPrimaryStatus.ok
    }

    private func detail(_ service: IntegrationService, _ snapshot: State) -> String? {
        switch service {
        case .timesync:
            snapshot.timeSkewNanoseconds.map { "skew \(String(format: "%.1f", Double($0) / 1_000_000)) ms" }
        case .vss:
            snapshot.frozen.map { "frozen: \($0.joined(separator: ", "))" }
        case .kvp:
            "\(snapshot.guestIntrinsic.count + snapshot.guestUser.count) guest items, \(snapshot.hostItems.count) host items"
        default:
            nil
        }
    }

    /// The heartbeat's primary status, for `viridian ic report`.
    public var heartbeatPrimaryStatus: String {
        status().first { $0.name == IntegrationService.heartbeat.rawValue }?.primaryStatus ?? IntegrationPrimaryStatus.noContact
    }
}
