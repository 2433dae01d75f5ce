import APITypes
@testable import Daemon
import Synchronization
import Testing

/// The graceful stop's rules, against a guest that does what each case scripts.
@Suite("Stop chain")
struct StopChainTests {
    /// What makes the fake guest go down.
    enum Trigger { case shutdownService, powerButton, nothing }

    final class FakeGuest: StoppableGuest {
        let serviceAnswer: Result<String, ViridianError>
        let buttonWorks: Bool
        let trigger: Trigger
        let calls = Mutex<[String]>([])

        init(service: Result<String, ViridianError>, buttonWorks: Bool = true, goesDownOn trigger: Trigger) {
            serviceAnswer = service
            self.buttonWorks = buttonWorks
            self.trigger = trigger
        }

        func askShutdownService() async throws -> String {
            calls.withLock { $0.append("service") }
            return try serviceAnswer.get()
        }

        func pressPowerButton() async throws {
            calls.withLock { $0.append("button") }
            guard buttonWorks else { throw ViridianError(.engineFailure, "QEMU refused system_powerdown") }
        }

        func waitForExit(_ timeout: Duration) async -> Bool {
            calls.withLock { calls in
                calls.append("wait \(timeout.components.seconds)")
                return switch trigger {
                case .shutdownService: calls.contains("service") && (try? serviceAnswer.get()) != nil
                case .powerButton: calls.contains("button") && buttonWorks
                case .nothing: false
                }
            }
        }
    }

    static let noService = Result<String, ViridianError>.failure(ViridianError(.notResponding, "no integration agent answers in the guest"))

    @Test("a guest that goes down on its shutdown service is never sent the power button")
    func serviceWorks() async {
        let guest = FakeGuest(service: .success("viridian-guest"), goesDownOn: .shutdownService)
        let steps = Mutex<[String]>([])
        let outcome = await StopChain(timeout: .seconds(60)).run(guest) { step in steps.withLock { $0.append(step) } }
        #expect(outcome == .shutDown(path: "the shutdown service (viridian-guest)"))
        #expect(guest.calls.withLock { $0 } == ["service", "wait 15"])
        #expect(steps.withLock { $0 } == ["the shutdown service (viridian-guest) accepted the shutdown"])
    }

    @Test("a service that accepts but the guest stays up: the power button follows after the grace period")
    func serviceAcceptsButGuestStaysUp() async {
        let guest = FakeGuest(service: .success("qemu-guest-agent"), goesDownOn: .powerButton)
        let steps = Mutex<[String]>([])
        let outcome = await StopChain(timeout: .seconds(30)).run(guest) { step in steps.withLock { $0.append(step) } }
        #expect(outcome == .shutDown(path: "the shutdown service (qemu-guest-agent), then the ACPI power button"))
        let calls = guest.calls.withLock { $0 }
        #expect(calls.prefix(3) == ["service", "wait 10", "button"], "grace is a third of the timeout: \(calls)")
        #expect(steps.withLock { $0 }.contains("the guest did not go down within 10 s of the shutdown service (qemu-guest-agent) accepting"))
    }

    @Test("without a shutdown service the power button is pressed at once, and the failure is reported")
    func noServiceUsesButton() async {
        let guest = FakeGuest(service: Self.noService, goesDownOn: .powerButton)
        let steps = Mutex<[String]>([])
        let outcome = await StopChain(timeout: .seconds(60)).run(guest) { step in steps.withLock { $0.append(step) } }
        #expect(outcome == .shutDown(path: "the ACPI power button"))
        #expect(guest.calls.withLock { $0 }.prefix(2) == ["service", "button"])
        #expect(steps.withLock { $0 }.first == "the shutdown service did not take the shutdown: no integration agent answers in the guest")
    }

    @Test("a guest that ignores everything times out, naming what was tried")
    func timesOut() async {
        let guest = FakeGuest(service: .success("viridian-guest"), goesDownOn: .nothing)
        let outcome = await StopChain(timeout: .seconds(6)).run(guest) { _ in }
        #expect(outcome == .timedOut(tried: "the shutdown service (viridian-guest), then the ACPI power button"))
    }

    @Test("nothing could be asked: the timeout names that")
    func nothingWorks() async {
        let guest = FakeGuest(service: Self.noService, buttonWorks: false, goesDownOn: .nothing)
        let steps = Mutex<[String]>([])
        let outcome = await StopChain(timeout: .seconds(6)).run(guest) { step in steps.withLock { $0.append(step) } }
        #expect(outcome == .timedOut(tried: "nothing could be asked"))
        #expect(steps.withLock { $0 }.contains { $0.hasPrefix("the ACPI power button could not be pressed: QEMU refused") })
    }

    @Test("the grace period is a third of the timeout, at most 15 s")
    func grace() {
        #expect(StopChain(timeout: .seconds(3600)).grace == .seconds(15))
        #expect(StopChain(timeout: .seconds(9)).grace == .seconds(3))
        #expect(StopChain(timeout: .zero).grace == .zero)
    }
}
