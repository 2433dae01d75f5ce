import APITypes
import HostServices

/// What a graceful stop can do to a guest; `VMManager` drives a real worker, unit tests a fake.
protocol StoppableGuest: Sendable {
    /// Asks the guest's shutdown integration service; returns the agent that accepted.
    func askShutdownService() async throws -> String
    /// Presses the ACPI power button.
    func pressPowerButton() async throws
    /// True when the worker exited within `timeout`.
    func waitForExit(_ timeout: Duration) async -> Bool
}

/// The graceful stop (Stop-VM): the shutdown integration service first; when it is missing,
/// fails, or the guest shows no sign of going down within a grace period, the ACPI power button;
/// when the guest is still up at the timeout, the caller turns it off. Every step's outcome is
/// reported, so the job and the event log say what was tried and what happened.
struct StopChain: Sendable {
    /// How the stop ended.
    enum Outcome: Equatable, Sendable {
        /// The guest shut down; `path` says what made it (`the shutdown service (viridian-guest)`).
        case shutDown(path: String)
        /// The guest was still running at the timeout: turn it off.
        case timedOut(tried: String)
    }

    /// The longest the shutdown service gets before the power button is pressed as well.
    static let maxGrace = Duration.seconds(15)

    let timeout: Duration

    /// How long the guest gets after its shutdown service accepted before the power button:
    /// a third of the timeout, at most `maxGrace`.
    var grace: Duration { min(Self.maxGrace, timeout / 3) }

    /// Runs the chain against `guest`; `step` hears each step's outcome as it happens.
    func run(_ guest: some StoppableGuest, step: @Sendable (String) async -> Void) async -> Outcome {
        let clock = ContinuousClock()
        let started = clock.now
        var tried: [String] = []
        do {
            let agent = try await guest.askShutdownService()
            let path = "the shutdown service (\(agent))"
            tried.append(path)
            await step("\(path) accepted the shutdown")
            if await guest.waitForExit(grace) { return .shutDown(path: path) }
            await step("the guest did not go down within \(Self.seconds(grace)) s of \(path) accepting")
        } catch {
            await step("the shutdown service did not take the shutdown: \(ViridianError.wrapping(error).message)")
        }
        do {
            try await guest.pressPowerButton()
            tried.append("the ACPI power button")
            await step("pressed the ACPI power button")
        } catch {
            await step("the ACPI power button could not be pressed: \(ViridianError.wrapping(error).message)")
        }
        let left = timeout - (clock.now - started)
        if left > .zero, await guest.waitForExit(left) {
            return .shutDown(path: tried.isEmpty ? "the guest" : tried.joined(separator: ", then "))
        }
        return .timedOut(tried: tried.isEmpty ? "nothing could be asked" : tried.joined(separator: ", then "))
    }

    static func seconds(_ duration: Duration) -> Int64 { duration.components.seconds }
}
