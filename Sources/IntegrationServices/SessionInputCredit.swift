import Synchronization

/// How many bytes of standard input a guest program may still be sent. The agent grants a window
/// when the program starts and more as the program reads (`InputCredit`), so a program that reads
/// nothing holds back only its own session, never the port the other sessions share. A guest that
/// grants too much only lets the port's own backpressure take over: nothing piles up on the host.
package final class SessionInputCredit: Sendable {
    private struct State {
        var available: Int
        /// The one `take` waiting for more credit.
        var waiter: CheckedContinuation<Void, any Error>?
        var finished = false
    }

    private let state: Mutex<State>

    package init(window: Int) {
        state = Mutex(State(available: max(0, window)))
    }

    /// Adds what the guest granted; the sum saturates, and nothing below 1 counts.
    package func grant(_ bytes: Int) {
        guard bytes > 0 else { return }
        let waiter = state.withLock { state in
            let (sum, overflow) = state.available.addingReportingOverflow(bytes)
            state.available = overflow ? .max : sum
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits until `bytes` may be sent, and takes them. Only one task takes at a time.
    /// - Throws: `CancellationError` when the task is cancelled or the session ended meanwhile.
    package func take(_ bytes: Int) async throws {
        while true {
            let taken = try state.withLock { state throws -> Bool in
                if state.finished { throw CancellationError() }
                guard state.available >= bytes else { return false }
                state.available -= bytes
                return true
            }
            if taken { return }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    // Cancellation sets its flag before its handler runs, so one of the two sees the other.
                    let waitHere = state.withLock { state in
                        guard !state.finished, state.available < bytes, !Task.isCancelled else { return false }
                        state.waiter = continuation
                        return true
                    }
                    if !waitHere { continuation.resume() }
                }
            } onCancel: {
                wakeWaiter()
            }
            try Task.checkCancellation()
        }
    }

    /// The session ended: a waiting `take` gives up.
    package func finish() {
        state.withLock { $0.finished = true }
        wakeWaiter()
    }

    private func wakeWaiter() {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: CancellationError())
    }
}
