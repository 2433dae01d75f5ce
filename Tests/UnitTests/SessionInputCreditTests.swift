import IntegrationServices
import Testing

/// The host's side of session input credit: input waits for the guest's grants, and a session
/// that ends or a task that is cancelled never leaves a sender waiting.
@Suite("Session input credit")
struct SessionInputCreditTests {
    @Test("input within the window goes at once; beyond it, it waits for a grant")
    func waitsForGrant() async throws {
        let credit = SessionInputCredit(window: 100)
        try await credit.take(60)
        try await credit.take(40)
        let (granted, signal) = AsyncStream.makeStream(of: Void.self)
        let sender = Task {
            try await credit.take(50)
            signal.yield()
        }
        credit.grant(30)
        credit.grant(-5)
        credit.grant(20)
        var iterator = granted.makeAsyncIterator()
        #expect(await iterator.next() != nil, "50 bytes granted in two pieces let the 50-byte piece go")
        try await sender.value
    }

    @Test("an ended session or a cancelled sender stops the wait; grants saturate")
    func endsWaiting() async throws {
        let ended = SessionInputCredit(window: 0)
        let waiting = Task { try await ended.take(1) }
        ended.finish()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        await #expect(throws: CancellationError.self) { try await ended.take(1) }

        let cancelled = SessionInputCredit(window: 0)
        let sender = Task { try await cancelled.take(1) }
        sender.cancel()
        await #expect(throws: CancellationError.self) { try await sender.value }

        let generous = SessionInputCredit(window: .max)
        generous.grant(.max)
        try await generous.take(.max)
    }
}
