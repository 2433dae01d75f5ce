import APITypes

/// Hands out the host's migration slots: at most `limit` live migrations and `limit` storage
/// migrations at once; later requests wait in arrival order (FIFO) and get a slot as one frees.
/// The limits are read at every hand-out, so raising one with `viridian host set` starts
/// waiting moves at once.
package actor MigrationSlots {
    package enum Pool: Sendable {
        case live, storage
    }

    private struct Waiter {
        let id: Int
        let pool: Pool
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let limit: @Sendable (Pool) -> Int
    private var inUse: [Pool: Int] = [:]
    private var waiters: [Waiter] = []
    private var nextID = 0

    package init(limit: @escaping @Sendable (Pool) -> Int) {
        self.limit = limit
    }

    /// How many requests wait for a slot in `pool`.
    package func waiting(in pool: Pool) -> Int {
        waiters.count { $0.pool == pool }
    }

    /// Waits for a slot in `pool`, then runs `body` holding it. Cancelling the wait leaves the queue.
    package func withSlot<T: Sendable>(_ pool: Pool, _ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire(pool)
        defer { release(pool) }
        return try await body()
    }

    private func acquire(_ pool: Pool) async throws {
        try Task.checkCancellation()
        if waiters.allSatisfy({ $0.pool != pool }), inUse[pool, default: 0] < limit(pool) {
            inUse[pool, default: 0] += 1
            return
        }
        nextID += 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append(Waiter(id: id, pool: pool, continuation: continuation))
                wake()
            }
        } onCancel: {
            Task { await self.leave(id) }
        }
    }

    private func release(_ pool: Pool) {
        inUse[pool, default: 0] -= 1
        wake()
    }

    /// Starts waiters, oldest first, while their pool has room.
    package func wake() {
        for pool in [Pool.live, .storage] {
            while inUse[pool, default: 0] < limit(pool), let index = waiters.firstIndex(where: { $0.pool == pool }) {
                let waiter = waiters.remove(at: index)
                inUse[pool, default: 0] += 1
                waiter.continuation.resume()
            }
        }
    }

    private func leave(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
