import APITypes
import Foundation
import Testing

/// The handover of a live move under faults: whatever dies when, the VM runs on exactly one host.
@Suite("Handover under faults", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct HandoverFaultTests {
    @Test("the destination dies after it committed and before it answered: the VM is the destination's, once", .guests(2))
    func destinationDiesAfterCommit() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            try await source.createTestVM("hf1")
            #expect(await source.cli(["vm", "start", "hf1"]).exitCode == 0)
            try await source.waitForIntegration("hf1")
            try await source.startDirtying("hf1")
            let id = try await source.client.vm("hf1").id

            await destination.stop()
            destination.environment["VIRIDIAN_FAILPOINTS"] = "exit-after-commit"
            try await destination.start()
            let started = await source.cli(["vm", "move", "hf1", "--to", "host-2", "--no-wait"])
            try #require(started.exitCode == 0, "\(started.error)")
            let job = started.output.trimmingWhitespace()
            try await eventually("the destination died at its failpoint, after storing the VM", timeout: .seconds(180)) {
                destination.process?.isRunning == false
            }
            #expect(await source.state(of: "hf1") == .migrating, "the source waits for the outcome; it does not resume the VM")
            destination.environment = [:]
            try await destination.start()

            let finished = try await source.waitForJob(job)
            #expect(finished.state == .completed, "\(finished)")
            #expect(QEMUProcesses.count(uuid: id) == 1, "one QEMU process of the VM is left on the machine, not \(QEMUProcesses.count(uuid: id))")
            #expect(await source.state(of: "hf1") == nil)
            let arrived = await destination.state(of: "hf1")
            #expect(arrived == .paused || arrived == .running, "\(String(describing: arrived))")
            if arrived == .paused { #expect(await destination.cli(["vm", "resume", "hf1"]).exitCode == 0) }
            try await destination.waitForIntegration("hf1", timeout: .seconds(60))
            try await destination.expectWriterProgress("hf1")
            await destination.expectHealthyKernel("hf1")
            let events = await destination.cli(["events", "--vm", "hf1"]).output
            #expect(events.contains("re-attached"), "\(events)")
        }
    }

    /// Where a daemon dies (or an answer is lost) in a live move, and which host has the VM afterwards.
    enum Fault: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case sourceDiesAfterPlan = "source-exit-after-plan"
        case sourceDiesMidStream = "source-exit-mid-stream"
        case sourceDiesAfterCommit = "source-exit-after-commit"
        case destinationDiesMidStream = "destination-exit-at-keepalive"
        case destinationLosesCommitReply = "destination-lose-commit-reply"

        var testDescription: String { rawValue }
        var onSource: Bool { rawValue.hasPrefix("source") }
        var killsDaemon: Bool { self != .destinationLosesCommitReply }
        /// The VM ends on the destination only when the destination committed.
        var endsOnDestination: Bool { self == .sourceDiesAfterCommit || self == .destinationLosesCommitReply }
    }

    @Test("a fault at each phase of a live move ends with exactly one running copy, the writer intact, nothing left behind",
          .guests(2), arguments: Fault.allCases)
    func faultAtEachPhase(_ fault: Fault) async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            try await source.createTestVM("hf")
            #expect(await source.cli(["vm", "start", "hf"]).exitCode == 0)
            try await source.waitForIntegration("hf")
            try await source.startDirtying("hf")
            let id = try await source.client.vm("hf").id
            let failing = fault.onSource ? source : destination
            await failing.stop()
            failing.environment["VIRIDIAN_FAILPOINTS"] = fault.rawValue
            try await failing.start()

            // Sample both hosts throughout: never two copies of the guest running.
            let sampler = Task {
                var most = 0
                while !Task.isCancelled {
                    var running = 0
                    for host in [source, destination] where (try? await host.client.vm("hf").engineStatus) == "running" { running += 1 }
                    most = max(most, running)
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return most
            }
            // The keepalive comes every 3 s: a capped stream is still running then.
            let cap = fault == .destinationDiesMidStream ? ["--bandwidth", "8"] : []
            let started = await source.cli(["vm", "move", "hf", "--to", "host-2", "--no-wait"] + cap)
            try #require(started.exitCode == 0, "\(started.error)")
            let job = started.output.trimmingWhitespace()
            if fault.killsDaemon {
                try await eventually("viridiand on the \(fault.onSource ? "source" : "destination") died at \(fault.rawValue)", timeout: .seconds(180)) {
                    failing.process?.isRunning == false
                }
                failing.environment = [:]
                try await failing.start()
            }
            if !fault.onSource {
                let finished = try await source.waitForJob(job)
                #expect(finished.state == (fault.endsOnDestination ? .completed : .failed), "\(finished)")
            }
            let (owner, other) = fault.endsOnDestination ? (destination, source) : (source, destination)
            try await eventually("VM 'hf' runs on \(fault.endsOnDestination ? "the destination" : "the source") only", timeout: .seconds(120),
                                 details: { "source: \(await source.cli(["events", "--vm", "hf"]).output)\ndestination: \(await destination.cli(["events", "--vm", "hf"]).output)" }) {
                let state = await owner.state(of: "hf")
                let elsewhere = await other.state(of: "hf")
                return state == .running && elsewhere == nil && QEMUProcesses.count(uuid: id) == 1
            }
            if fault.onSource {
                let settled = await source.cli(["events", "--vm", "hf"]).output
                let expected = fault.endsOnDestination ? "had taken it over; its worker here was ended" : "was interrupted before its commit"
                #expect(settled.contains(expected), "the restarted source settled the move with the destination: \(settled)")
            }
            sampler.cancel()
            #expect(await sampler.value <= 1, "two copies of the guest ran at once")
            try await owner.waitForIntegration("hf", timeout: .seconds(60))
            try await owner.expectWriterProgress("hf")
            await owner.expectHealthyKernel("hf")
            #expect(other.runtimeFolders.isEmpty, "nothing of the VM is left on the other host: \(other.runtimeFolders)")
            #expect(await owner.cli(["vm", "pause", "hf"]).exitCode == 0, "the VM is usable where it ended")
            #expect(await owner.cli(["vm", "resume", "hf"]).exitCode == 0, "the VM is usable where it ended")
        }
    }
}
