import APITypes
import Foundation
import Testing

/// QEMU workers outlive viridiand: a restart re-attaches to them, and a worker that died while
/// the daemon was away is marked Off with a warning.
@Suite("Daemon restart", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct DaemonRestartTests {
    @Test("a running VM survives a daemon restart and is re-attached; one that died meanwhile is marked Off", .guests(1))
    func restart() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("keep")
            #expect(await daemon.cli(["vm", "start", "keep"]).exitCode == 0)
            try await daemon.waitForConsole("keep", contains: "VIRIDIAN-GUEST-READY")
            if AgentBundles.available {
                #expect(await daemon.cli(["vm", "kvp", "keep", "--set", "kept=yes"]).exitCode == 0)
                try await daemon.waitForIntegration("keep")
            }
            let before = try #require(try await daemon.client.vm("keep").workerPID)

            await daemon.stop()
            #expect(kill(before, 0) == 0, "the worker must keep running without the daemon")
            let unreachable = await daemon.cli(["vm", "list"])
            #expect(unreachable.exitCode == 3 && unreachable.error.contains("viridiand is not running"))

            try await daemon.start()
            let after = try await daemon.client.vm("keep")
            #expect(after.state == .running && after.workerPID == before)
            #expect(try await daemon.client.events(vm: "keep").contains { $0.message.contains("re-attached") })
            // The re-attached worker is really driven: pause goes through QMP.
            #expect(await daemon.cli(["vm", "pause", "keep"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "resume", "keep"]).exitCode == 0)
            // The guest's agent negotiates again with the new daemon, and the host pool survived.
            if AgentBundles.available {
                try await daemon.waitForIntegration("keep")
                #expect(await daemon.exec("keep", ["echo", "still here"]).output == "still here\n")
                #expect(try await daemon.client.kvp("keep").host == ["kept": "yes"])
            }

            await daemon.stop()
            kill(before, SIGKILL)
            while kill(before, 0) == 0 { try await Task.sleep(for: .milliseconds(20)) }
            try await daemon.start()
            #expect(try await daemon.client.vm("keep").state == .off)
            let warnings = try await daemon.client.events(vm: "keep", level: .warning)
            #expect(warnings.contains { $0.message.contains("exited while viridiand was not running") })
        }
    }

    @Test("a worker killed while the daemon runs turns the VM Off with an error event", .guests(1))
    func workerCrash() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("crash")
            #expect(await daemon.cli(["vm", "start", "crash"]).exitCode == 0)
            let pid = try #require(try await daemon.client.vm("crash").workerPID)
            kill(pid, SIGKILL)
            let deadline = ContinuousClock.now + .seconds(10)
            while try await daemon.client.vm("crash").state != .off, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await daemon.client.vm("crash").state == .off)
            #expect(try await daemon.client.events(vm: "crash", level: .error).contains { $0.message.contains("exited unexpectedly") })
            #expect(await daemon.cli(["vm", "start", "crash"]).exitCode == 0, "the VM starts again after a crash")
        }
    }
}
