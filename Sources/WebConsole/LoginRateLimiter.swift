import Synchronization

/// Bounds password guessing: after `failures` failed sign-ins within `window` from one address, or
/// for one user name, further attempts are refused until the window has passed. Remembers at most
/// `capacity` keys, dropping the stalest.
public final class LoginRateLimiter: Sendable {
    let failures: Int
    let window: Duration
    let capacity: Int
    private let attempts = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(failures: Int = 5, window: Duration = .seconds(60), capacity: Int = 10_000) {
        self.failures = failures
        self.window = window
        self.capacity = capacity
    }

    /// How long `keys` must wait before trying again; nil when they may try now.
    public func delay(for keys: [String]) -> Duration? {
        let now = ContinuousClock.now
        return attempts.withLock { attempts in
            keys.compactMap { key -> Duration? in
                let recent = (attempts[key] ?? []).filter { now - $0 < window }
                attempts[key] = recent.isEmpty ? nil : recent
                guard recent.count >= failures, let oldest = recent.first else { return nil }
                return window - (now - oldest)
            }.max()
        }
    }

    /// Counts a failed attempt against each of `keys`.
    public func recordFailure(_ keys: [String]) {
        let now = ContinuousClock.now
        attempts.withLock { attempts in
            if attempts.count >= capacity {
                attempts = attempts.filter { now - ($0.value.last ?? now) < window }
                while attempts.count >= capacity, let stalest = attempts.min(by: { ($0.value.last ?? now) < ($1.value.last ?? now) }) {
                    attempts[stalest.key] = nil
                }
            }
            for key in keys { attempts[key, default: []].append(now) }
        }
    }

    /// Forgets the failures of `keys` (after a successful sign-in).
    public func reset(_ keys: [String]) {
        attempts.withLock { attempts in for key in keys { attempts[key] = nil } }
    }
}
