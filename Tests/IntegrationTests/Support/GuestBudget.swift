import Foundation
import Testing

/// How many test guests may run at once. Swift Testing starts every test together; on a small
/// machine that meant a dozen TCG guests booting on two cores (load 19), and a Generation 1
/// guest's IDE disk then lost interrupts and stalled for minutes. Tests that boot guests take a
/// share of this budget for as long as they run; the rest wait in order.
actor GuestBudget {
    /// `VIRIDIAN_TEST_GUESTS`, else two guests per processor.
    static let shared = GuestBudget(capacity: ProcessInfo.processInfo.environment["VIRIDIAN_TEST_GUESTS"].flatMap(Int.init)
        ?? 2 * ProcessInfo.processInfo.activeProcessorCount)

    private let capacity: Int
    private var inUse = 0
    private var waiting: [(share: Int, resume: CheckedContinuation<Void, Never>)] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Waits until `guests` more fit (a test asking for more than the whole budget gets all of it).
    func acquire(_ guests: Int) async -> Int {
        let share = min(max(1, guests), capacity)
        if waiting.isEmpty && inUse + share <= capacity {
            inUse += share
            return share
        }
        await withCheckedContinuation { waiting.append((share, $0)) }
        return share
    }

    /// Gives a share back and lets waiting tests in, first come first served.
    func release(_ share: Int) {
        inUse -= share
        while let next = waiting.first, inUse + next.share <= capacity {
            waiting.removeFirst()
            inUse += next.share
            next.resume.resume()
        }
    }
}

/// A test that runs up to `count` guests at once; it starts when they fit in the `GuestBudget`.
struct GuestsTrait: TestTrait, TestScoping {
    let count: Int

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let share = await GuestBudget.shared.acquire(count)
        do {
            try await function()
        } catch {
            await GuestBudget.shared.release(share)
            throw error
        }
        await GuestBudget.shared.release(share)
    }
}

extension Trait where Self == GuestsTrait {
    /// The test runs up to `count` guests at once (see `GuestBudget`).
    static func guests(_ count: Int) -> Self { GuestsTrait(count: count) }
}
