import Foundation

/// Bounds the events a guest can make the host record (heartbeat lost and back, health flips,
/// protocol violations): a token bucket per VM — a burst of `burst` events, then one per
/// `refill`. Events over the limit are counted, and the next event that passes says how many
/// were left out, so the log stays honest and bounded.
struct GuestEventLimiter: Sendable {
    /// What to do with one event.
    enum Decision: Equatable, Sendable {
        /// Record it; `suppressedBefore` events of this VM were left out since the last one recorded.
        case record(suppressedBefore: Int)
        case suppress
    }

    private struct Bucket {
        var tokens: Double
        var updated: Date
        var suppressed: Int
    }

    let burst: Int
    let refill: TimeInterval
    private var buckets: [String: Bucket] = [:]

    init(burst: Int = 20, refill: TimeInterval = 15) {
        self.burst = burst
        self.refill = refill
    }

    /// Decides about an event of VM `id` at `now`.
    mutating func admit(_ id: String, now: Date = Date()) -> Decision {
        var bucket = buckets[id] ?? Bucket(tokens: Double(burst), updated: now, suppressed: 0)
        bucket.tokens = min(Double(burst), bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) / refill)
        bucket.updated = now
        defer { buckets[id] = bucket }
        guard bucket.tokens >= 1 else {
            bucket.suppressed += 1
            return .suppress
        }
        bucket.tokens -= 1
        let suppressed = bucket.suppressed
        bucket.suppressed = 0
        return .record(suppressedBefore: suppressed)
    }

    /// Forgets a VM (removed or moved away).
    mutating func forget(_ id: String) {
        buckets[id] = nil
    }
}
