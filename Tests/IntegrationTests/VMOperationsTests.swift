import APIClient
import APITypes
import Foundation
import Testing

/// One operation per VM at a time, and what the host does with its VMs when it shuts down and
/// comes back (automatic stop and start actions).
@Suite("VM operations and host shutdown", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct VMOperationsTests {
    /// The lifecycle calls the concurrency test fires.
    enum Call: CaseIterable { case start, stop, turnOff, save, pause, resume, restart }

    @Test("20 concurrent random lifecycle calls on one VM: each succeeds or is refused, and the end state is QEMU's", .guests(1))
    func concurrentLifecycle() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("busy")
            _ = try await daemon.waitForJob(try await daemon.client.startVM("busy").id)
            try await daemon.waitForConsole("busy", contains: "VIRIDIAN-GUEST-READY")
            let id = try await daemon.client.vm("busy").id
            var generator = SystemRandomNumberGenerator()
            for round in 1...2 {
                let calls = (0..<10).map { _ in Call.allCases.randomElement(using: &generator)! }
                let outcomes = await withTaskGroup(of: (Call, Result<String?, ViridianError>).self) { group in
                    for call in calls {
                        group.addTask { (call, await Self.perform(call, on: "busy", daemon.client)) }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                var jobs: [String] = []
                for (call, outcome) in outcomes {
                    switch outcome {
                    case .success(let job): if let job { jobs.append(job) }
                    case .failure(let error):
                        #expect([.busy, .invalidState].contains(error.code), "round \(round), \(call): \(error.code) \(error.message)")
                        if error.code == .busy { #expect(error.message.contains("VM 'busy' is busy: "), "\(error.message)") }
                    }
                }
                for job in jobs {
                    let finished = try await daemon.waitForJob(job)
                    #expect(finished.state == .completed || finished.error?.code == "cancelled", "\(finished)")
                }
                try await Self.expectStateMatchesEngine("busy", id: id, daemon)
            }
            // The VM is still usable: it runs again, its worker answers as running.
            let info = try await daemon.client.vm("busy")
            switch info.state {
            case .off, .saved: _ = try await daemon.waitForJob(try await daemon.client.startVM("busy").id)
            case .paused: _ = try await daemon.client.resumeVM("busy")
            default: break
            }
            let after = try await daemon.client.vm("busy")
            #expect(after.state == .running && after.engineStatus == "running", "\(after.state) \(after.engineStatus ?? "-")")
        }
    }

    @Test("a guest flipping its health for a minute gets a bounded number of events, and the log says what it left out", .guests(1),
          .enabled(if: AgentBundles.available, Comment(rawValue: AgentBundles.missing)))
    func healthFlapping() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("flap")
            #expect(await daemon.cli(["vm", "start", "flap"]).exitCode == 0)
            try await daemon.waitForIntegration("flap")
            let health = "/run/viridian-guest/health.json"
            let loop = "i=0; while [ $i -lt 1000 ]; do echo '{\"health\":\"degraded\",\"reason\":\"flap\"}' > \(health); sleep 0.3; "
                + "echo '{\"health\":\"ok\"}' > \(health); sleep 0.3; i=$((i+1)); done"
            #expect(await daemon.exec("flap", ["sh", "-c", "(\(loop)) >/dev/null 2>&1 &"]).exitCode == 0)
            let started = ContinuousClock.now
            try await eventually("the host leaves out some of the guest's health events", timeout: .seconds(120)) {
                let events = (try? await daemon.client.events(vm: "flap")) ?? []
                return events.contains { $0.message.contains("earlier event(s) from this guest were left out") }
            }
            let elapsed = Double((ContinuousClock.now - started).components.seconds)
            let healthEvents = try await daemon.client.events(vm: "flap", limit: 10_000).filter { $0.message.contains("reports its applications") }
            // Burst 20, then one per 15 s (GuestEventLimiter), against about one change per heartbeat (1 s).
            let bound = 20 + Int(elapsed / 15) + 2
            #expect(healthEvents.count <= bound, "\(healthEvents.count) health events in \(elapsed) s; the bound is \(bound)")
            // The job ids viridian jobs prints (8 characters) name a job.
            let start = try #require(try await daemon.client.jobs().first { $0.kind == "vm.start" })
            let shown = try await daemon.json(JobInfo.self, ["jobs", "show", String(start.id.prefix(8))])
            #expect(shown.id == start.id)
            let short = await daemon.cli(["jobs", "show", "ab"])
            #expect(short.exitCode == 1 && short.error.contains("too short"), "\(short)")
        }
    }

    /// One lifecycle call through the API: the job id it started, or its error.
    static func perform(_ call: Call, on vm: String, _ client: ViridianClient) async -> Result<String?, ViridianError> {
        do {
            switch call {
            case .start: return .success(try await client.startVM(vm).id)
            case .stop: return .success(try await client.stopVM(vm, StopVMRequest(timeoutSeconds: 30)).id)
            case .turnOff: return .success(try await client.stopVM(vm, StopVMRequest(turnOff: true)).id)
            case .save: return .success(try await client.saveVM(vm).id)
            case .pause: _ = try await client.pauseVM(vm)
            case .resume: _ = try await client.resumeVM(vm)
            case .restart: _ = try await client.restartVM(vm)
            }
            return .success(nil)
        } catch let error as ViridianError {
            return .failure(error)
        } catch {
            return .failure(ViridianError(.internalError, "\(error)"))
        }
    }

    /// The daemon's state for the VM is what its worker (or the lack of one) says.
    static func expectStateMatchesEngine(_ vm: String, id: String, _ daemon: TestDaemon) async throws {
        let info = try await daemon.client.vm(vm)
        #expect(info.operation == nil, "no operation is left holding the VM: \(info.operation.map(\.description) ?? "")")
        let workers = QEMUProcesses.count(uuid: id)
        switch info.state {
        case .running, .paused:
            #expect(info.engineStatus == (info.state == .running ? "running" : "paused"),
                    "viridiand says \(info.state.rawValue), QEMU says \(info.engineStatus ?? "nothing")")
            #expect(workers == 1, "one QEMU process runs the VM, not \(workers)")
        case .off, .saved:
            // QEMU closes its monitor (and the VM is Off) a moment before its process is gone.
            if workers != 0 {
                try await eventually("the QEMU process of the \(info.state.rawValue) VM ends (\(workers) found)", timeout: .seconds(10)) {
                    QEMUProcesses.count(uuid: id) == 0
                }
            }
        default:
            Issue.record("the VM settled in \(info.state.rawValue) with no operation running")
        }
    }

    @Test("a simulated host reboot: saved VMs come back running with their memory; StartIfRunning, Nothing and TurnOff are honoured", .guests(2))
    func hostReboot() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("keeper")
            try await daemon.createTestVM("manual")
            #expect(await daemon.cli(["vm", "set", "manual", "--automatic-start-action", "nothing",
                                      "--automatic-stop-action", "turn-off"]).exitCode == 0)
            let bad = await daemon.cli(["vm", "set", "manual", "--automatic-stop-action", "hibernate"])
            #expect(bad.exitCode != 0 && bad.error.contains("save, shut-down or turn-off"), "\(bad)")
            let delay = await daemon.cli(["vm", "set", "manual", "--automatic-start-delay", "2h"])
            #expect(delay.exitCode != 0 && delay.error.contains("0 to 3600"), "\(delay)")
            for vm in ["keeper", "manual"] {
                #expect(await daemon.cli(["vm", "start", vm]).exitCode == 0)
            }
            try await daemon.waitForConsole("keeper", contains: "VIRIDIAN-GUEST-READY")
            try await daemon.waitForConsole("manual", contains: "VIRIDIAN-GUEST-READY")
            let shown = try await daemon.json(VMInfo.self, ["vm", "show", "manual"])
            #expect(shown.automaticActions == AutomaticActions(stopAction: .turnOff, startAction: .nothing))
            var mark: String?
            if AgentBundles.available {
                try await daemon.waitForIntegration("keeper")
                mark = UUID().uuidString
                #expect(await daemon.exec("keeper", ["sh", "-c", "echo \(mark!) > /tmp/mark"]).exitCode == 0)
            }
            let ids = [try await daemon.client.vm("keeper").id, try await daemon.client.vm("manual").id]

            let shutdown = await daemon.cli(["host", "shutdown"])
            #expect(shutdown.exitCode == 0, "\(shutdown)")
            #expect(try await daemon.client.vm("keeper").state == .saved)
            #expect(try await daemon.client.vm("manual").state == .off)
            let refused = await daemon.cli(["vm", "start", "manual"])
            #expect(refused.exitCode == 5 && refused.error.contains("shutting down"), "no VM starts while the host shuts down: \(refused)")
            await daemon.stop()
            #expect(ids.allSatisfy { QEMUProcesses.count(uuid: $0) == 0 }, "every QEMU is gone, as after a power-off")

            try await daemon.start()
            try await eventually("VM 'keeper' is restored by its automatic start action", timeout: .seconds(120)) {
                (try? await daemon.client.vm("keeper").state) == .running
            }
            #expect(try await daemon.client.vm("manual").state == .off, "start action Nothing leaves it off")
            if let mark {
                try await daemon.waitForIntegration("keeper")
                let read = await daemon.exec("keeper", ["cat", "/tmp/mark"])
                #expect(read.output == "\(mark)\n", "the guest's memory survived the host shutdown: \(read)")
            }
            let events = try await daemon.client.events(vm: "keeper").map(\.message)
            #expect(events.contains { $0.contains("automatic stop action Save") }, "\(events)")
            #expect(events.contains { $0.contains("automatic start action StartIfRunning") }, "\(events)")
        }
    }
}
