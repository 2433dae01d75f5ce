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
            #expect(Self.workers(of: id) == 1, "one QEMU process of the VM is left on the machine, not \(Self.workers(of: id))")
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

    /// QEMU processes on this machine whose command line carries `-uuid id`.
    static func workers(of id: String) -> Int {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
        return pids.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("qemu-system-x86_64") == true && arguments.contains(id)
        }.count
    }
}
