import APITypes
import HostServices

/// The rules that hand a VM over exactly once, apart from the transport and the VM host:
/// - only a clear "did not happen" to the commit means the source may resume the VM;
/// - any other answer (lost, an error, a timeout, "still committing") is followed by asking for the
///   destination's recorded outcome, which is durable across its restarts;
/// - without an outcome the VM stays paused on the source (`MoveOutcomeUnknown`), and settling asks
///   until the destination answers.
package struct Handover: Sendable {
    /// What settling an unknown outcome found.
    package enum Outcome: Equatable, Sendable {
        /// The destination runs the VM: end it here.
        case tookOver
        /// The destination did not take it: the VM stays here.
        case stayedHere
    }

    package let peer: any HandoverPeer
    /// How long a commit whose answer was lost keeps asking for the outcome before giving up.
    package var outcomeWait: Duration
    /// The pause between two questions while the commit's outcome is being asked for.
    package var retry: Duration

    package init(peer: any HandoverPeer, outcomeWait: Duration = .seconds(90), retry: Duration = .seconds(1)) {
        self.peer = peer
        self.outcomeWait = outcomeWait
        self.retry = retry
    }

    /// Commits the move `id`. Returns when the destination took the VM over.
    /// - Throws: `engineFailure` when it clearly did not (the VM may resume here);
    ///   `MoveOutcomeUnknown` when no outcome came within `outcomeWait` (the VM must not resume here).
    package func commit(_ id: String, resume: Bool) async throws {
        let lost: ViridianError
        do {
            switch try await peer.commit(id, resume: resume).state {
            case .committed: return
            case .pending: lost = ViridianError(.notResponding, "the destination is still committing")
            case .aborted: throw Refused()
            }
        } catch is Refused {
            throw ViridianError(.engineFailure, "the destination did not take the VM over")
        } catch {
            // Any other error may have come after the destination committed (an answer lost on the
            // way, a failure after the VM was stored): only its recorded outcome tells.
            lost = ViridianError.wrapping(error)
        }
        let deadline = ContinuousClock.now + outcomeWait
        while ContinuousClock.now < deadline {
            if let status = try? await peer.status(id) {
                switch status.state {
                case .committed: return
                case .aborted: throw ViridianError(.engineFailure, "the destination did not take the VM over (\(lost.message))")
                case .pending: break
                }
            }
            try await Task.sleep(for: retry)
        }
        throw MoveOutcomeUnknown(reason: lost.message)
    }

    /// Asks for the outcome of the committed move `id` until the destination answers; `unreachable`
    /// hears the first failure to ask. Returns nil only when the task is cancelled.
    package func settle(_ id: String, unreachable: (ViridianError) -> Void) async -> Outcome? {
        var warned = false
        while !Task.isCancelled {
            do {
                switch try await peer.status(id).state {
                case .committed: return .tookOver
                case .aborted: return .stayedHere
                case .pending: break
                }
            } catch {
                if !warned {
                    warned = true
                    unreachable(ViridianError.wrapping(error))
                }
            }
            try? await Task.sleep(for: retry)
        }
        return nil
    }

    /// The destination answered the commit with "did not happen".
    private struct Refused: Error {}
}
