import AgentProtocol
import APITypes
import Foundation
import QMP

extension IntegrationHub {
    /// Asks the guest to shut down or restart; returns the agent that accepted.
    /// - Throws: `notResponding` when no agent answers, `invalidState` when the guest refuses.
    public func requestShutdown(_ action: ShutdownAction, reason: String) async throws -> String {
        if isNegotiated(.shutdown) {
            let request = try connection(.shutdown).openRequest()
            defer { request.close() }
            try await request.send(ShutdownRequest(action: action, reason: String(reason.prefix(256))))
            let reply = try await request.reply(ShutdownReply.self, timeout: .seconds(5))
            guard reply.accepted else {
                throw ViridianError(.invalidState, "the guest refused to \(action.rawValue): \(reply.message.prefix(200))")
            }
            return IntegrationService.viridianAgentName
        }
        try requireFallback(.shutdown)
        try await fallback.requestShutdown(mode: action == .restart ? "reboot" : "powerdown")
        return GuestAgentFallback.agentName
    }

    /// Sends the host's clock to the guest; returns the skew seen (host − guest, nanoseconds).
    @discardableResult
    public func synchronizeTime(_ mode: TimeSyncMode) async throws -> Int64 {
        let hostTime = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        let skew: Int64
        let stepped: Bool
        if isNegotiated(.timesync) {
            let request = try connection(.timesync).openRequest()
            defer { request.close() }
            try await request.send(TimeSample(hostTime: hostTime, mode: mode))
            let reply = try await request.reply(TimeReply.self, timeout: .seconds(5))
            skew = hostTime - reply.guestTime
            stepped = reply.adjusted
            if let message = reply.message {
                throw ViridianError(.engineFailure, "the guest could not set its clock: \(message.prefix(200))")
            }
        } else if state.withLock({ $0.services[.timesync]?.enabled == true }), fallback.isAvailable {
            let guestTime = try await fallback.execute("guest-get-time", timeout: .seconds(5)).intValue ?? hostTime
            skew = hostTime - guestTime
            stepped = mode == .set || abs(skew) > TimeSample.correctionThresholdNanoseconds
            if stepped {
                let now = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
                _ = try await fallback.execute("guest-set-time", ["time": .int(now)], timeout: .seconds(5))
            }
        } else {
            throw ViridianError(.notResponding, "no time synchronization service answers in VM '\(vmName)'")
        }
        state.withLock { $0.timeSkewNanoseconds = stepped ? 0 : skew }
        if stepped && abs(skew) > TimeSample.correctionThresholdNanoseconds { onEventRelay(.clockStepped(skewNanoseconds: skew)) }
        return skew
    }

    /// Freezes the guest's file systems; it thaws them itself after `timeoutSeconds`.
    public func freeze(timeoutSeconds: Int) async throws -> FreezeResult {
        if isNegotiated(.vss) {
            let request = try connection(.vss).openRequest()
            defer { request.close() }
            try await request.send(FreezeRequest(timeoutSeconds: timeoutSeconds))
            let reply = try await request.reply(FreezeReply.self, timeout: .seconds(60))
            if let error = reply.error { throw ViridianError(.engineFailure, "the guest could not freeze: \(error.prefix(300))") }
            let filesystems = Array(reply.filesystems.prefix(64))
            state.withLock { $0.frozen = filesystems }
            return FreezeResult(frozen: true, filesystems: filesystems, agent: IntegrationService.viridianAgentName)
        }
        try requireFallback(.vss)
        let count = try await fallback.execute("guest-fsfreeze-freeze", timeout: .seconds(60)).intValue ?? 0
        state.withLock { $0.frozen = ["\(count) file systems"] }
        // The stock agent has no timeout of its own: the host thaws for it.
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(timeoutSeconds))
            guard let self, self.state.withLock({ $0.frozen != nil }) else { return }
            _ = try? await self.thaw()
            self.onEventRelay(.autoThawed(["\(count) file systems"]))
        }
        return FreezeResult(frozen: true, filesystems: ["\(count) file systems"], agent: GuestAgentFallback.agentName)
    }

    /// Thaws what `freeze` froze.
    public func thaw() async throws -> FreezeResult {
        if isNegotiated(.vss) {
            let request = try connection(.vss).openRequest()
            defer { request.close() }
            try await request.send(ThawRequest())
            let reply = try await request.reply(FreezeReply.self, timeout: .seconds(60))
            state.withLock { $0.frozen = nil }
            return FreezeResult(frozen: false, filesystems: Array(reply.filesystems.prefix(64)), agent: IntegrationService.viridianAgentName)
        }
        try requireFallback(.vss)
        let count = try await fallback.execute("guest-fsfreeze-thaw", timeout: .seconds(60)).intValue ?? 0
        state.withLock { $0.frozen = nil }
        return FreezeResult(frozen: false, filesystems: ["\(count) file systems"], agent: GuestAgentFallback.agentName)
    }

    /// Throws unless `service` is enabled and qemu-guest-agent answers (the error names the first problem).
    func requireFallback(_ service: IntegrationService) throws {
        guard state.withLock({ $0.services[service]?.enabled == true }), fallback.isAvailable,
              GuestAgentFallback.services.contains(service) else {
            _ = try connection(service)
            return
        }
    }

    /// How long a request waits for an enabled service that is coming up (after a start, a move, a
    /// restore or `ic enable`) before it fails with the reason.
    static let comingUpWait = Duration.seconds(10)

    /// Waits, at most `comingUpWait`, until an enabled `service` answers through Viridian's agent
    /// or qemu-guest-agent; returns at once when it does or when the service is disabled. True
    /// when the service answers (or is disabled), false when the wait ran out.
    @discardableResult
    public func waitUntilAnswering(_ service: IntegrationService) async -> Bool {
        let deadline = ContinuousClock.now + Self.comingUpWait
        while !Task.isCancelled {
            let enabled = state.withLock { $0.services[service]?.enabled == true }
            if !enabled || isNegotiated(service) || (fallback.isAvailable && GuestAgentFallback.services.contains(service)) { return true }
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Throws unless `service` answers, through Viridian's agent or qemu-guest-agent.
    public func requireAvailable(_ service: IntegrationService) throws {
        if isNegotiated(service) { return }
        try requireFallback(service)
    }
}
