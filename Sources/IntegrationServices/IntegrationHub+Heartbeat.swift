import AgentProtocol

extension IntegrationHub {
    func receiveBeat(_ beat: Beat) {
        let reason = beat.reason.map { String($0.prefix(256)) }
        let (restored, healthChanged) = state.withLock { state -> (Bool, Bool) in
            let restored = state.heartbeatLost
            let changed = state.health != beat.health || state.healthReason != reason
            state.lastBeat = .now
            state.heartbeatLost = false
            state.health = beat.health
            state.healthReason = reason
            return (restored, changed)
        }
        if restored { onEventRelay(.heartbeatRestored) }
        if healthChanged { onEventRelay(.health(beat.health, reason)) }
    }

    /// Called every second: notices a heartbeat that stopped.
    func checkHeartbeat() {
        let lost = state.withLock { state -> Bool in
            guard !state.stopped, !state.guestPaused, !state.heartbeatLost, let lastBeat = state.lastBeat,
                  ContinuousClock.now - lastBeat > Self.heartbeatLostAfter else { return false }
            state.heartbeatLost = true
            return true
        }
        if lost { onEventRelay(.heartbeatLost) }
    }

    /// QEMU stopped or resumed the guest's CPUs. A paused guest cannot beat, so its heartbeat keeps its last
    /// status; on resume the guest gets a full `heartbeatLostAfter` to beat again.
    public func guestPaused(_ paused: Bool) {
        state.withLock { state in
            state.guestPaused = paused
            if !paused, state.lastBeat != nil { state.lastBeat = .now }
        }
    }
}
