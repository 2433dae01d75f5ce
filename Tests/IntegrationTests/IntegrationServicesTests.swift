import AgentProtocol
import APITypes
import Foundation
import Testing

@Suite("Integration services against the real guest agent",
       .enabled(if: HostSupport.canBoot && AgentBundles.available,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing)")))
struct IntegrationServicesTests {
    @Test("every service end to end: exec, shell, KVP, time, freeze, file copy, health, enable/disable, heartbeat loss, stop", .guests(1))
    func everyServiceEndToEnd() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("ic1")
            #expect(await daemon.cli(["vm", "start", "ic1"]).exitCode == 0)
            try await daemon.waitForIntegration("ic1", release: Release.current)

            // `vm ic --json`: the contract's fields, Hyper-V's defaults (file copy off).
            let services = try await daemon.json([IntegrationServiceStatus].self, ["vm", "ic", "ic1"])
            #expect(services.map(\.name) == IntegrationService.allCases.map(\.rawValue))
            let fcopy = try #require(services.first { $0.name == "fcopy" })
            #expect(!fcopy.enabled && fcopy.primaryStatus == "Disabled")
            for service in services where service.enabled {
                #expect(service.primaryStatus == "OK" && service.version == 1 && service.agent == "viridian-guest", "\(service)")
            }

            // exec: output streams apart, the exit code is the guest's; standard input with -i.
            let failing = await daemon.exec("ic1", ["sh", "-c", "echo out; echo err >&2; exit 7"])
            #expect(failing.exitCode == 7 && failing.output == "out\n" && failing.error.contains("err"), "\(failing)")
            #expect(await daemon.exec("ic1", ["cat"], input: "piped through\n").output == "piped through\n")
            let missing = await daemon.exec("ic1", ["no-such-program"])
            #expect(missing.exitCode != 0 && missing.error.contains("no-such-program"), "\(missing)")

            // shell: a real pseudo-terminal.
            let shell = await daemon.cli(["vm", "shell", "ic1"], input: "tty; exit 3\n")
            #expect(shell.exitCode == 3 && shell.output.contains("/dev/pts/"), "\(shell)")

            // KVP both ways, and Hyper-V's limits.
            #expect(await daemon.cli(["vm", "kvp", "ic1", "--set", "color=green"]).exitCode == 0)
            try await eventually("the host item reaches the guest") {
                await daemon.exec("ic1", ["viridian-guest", "kvp", "list", "--pool", "host"]).output.contains("color=green")
            }
            #expect(await daemon.exec("ic1", ["viridian-guest", "kvp", "set", "app", "ready"]).exitCode == 0)
            try await eventually("the guest item reaches the host") {
                (try? await daemon.client.kvp("ic1"))?.guest["app"] == "ready"
            }
            let items = try await daemon.json(KVPItems.self, ["vm", "kvp", "ic1"])
            #expect(items.guest["IntegrationServicesVersion"] == Release.current)
            #expect(items.guest["OSKernelVersion"]?.contains("cloud-amd64") == true)
            #expect(items.guest["ProcessorArchitecture"] == "x86_64")
            #expect(items.guestUser == ["app": "ready"] && items.host == ["color": "green"])
            let tooLong = await daemon.cli(["vm", "kvp", "ic1", "--set", String(repeating: "k", count: 513) + "=v"])
            #expect(tooLong.exitCode != 0 && tooLong.error.contains("512"), "\(tooLong.error)")

            // Time: a guest clock set far off is corrected when the VM resumes. A pause longer than the
            // heartbeat's 5 s limit is not Lost Communication: a paused guest cannot beat.
            #expect(await daemon.exec("ic1", ["date", "-s", "@1000000000"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "pause", "ic1"]).exitCode == 0)
            try await Task.sleep(for: .seconds(7))
            let paused = try await daemon.client.integrationServices("ic1").first { $0.name == "heartbeat" }
            #expect(paused?.primaryStatus == "OK", "\(String(describing: paused))")
            #expect(await daemon.cli(["vm", "resume", "ic1"]).exitCode == 0)
            try await eventually("the guest clock follows the host's") {
                let guest = Double(await daemon.exec("ic1", ["date", "+%s"]).output.trimmingWhitespace()) ?? 0
                return abs(guest - Date().timeIntervalSince1970) < 3
            }

            // Freeze: a write in the guest waits until the thaw.
            let frozen = await daemon.cli(["vm", "freeze", "ic1", "--timeout", "60", "--json"])
            #expect(frozen.exitCode == 0 && frozen.output.contains("/mnt/root"), "\(frozen)")
            let writer = Task { await daemon.exec("ic1", ["sh", "-c", "echo x > /mnt/root/probe && sync && echo written"]) }
            try await Task.sleep(for: .seconds(2))
            let vss = try await daemon.client.integrationServices("ic1").first { $0.name == "vss" }
            #expect(vss?.secondaryStatus?.contains("frozen") == true, "\(String(describing: vss))")
            #expect(await daemon.cli(["vm", "thaw", "ic1"]).exitCode == 0)
            let written = await writer.value
            #expect(written.exitCode == 0 && written.output.contains("written"), "\(written)")

            // File copy: off by default, then 64 MiB both ways with identical checksums.
            let host = daemon.stateDirectory
            try Data((0..<(64 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
                .write(to: URL(fileURLWithPath: "\(host)/big.bin"))
            let refused = await daemon.cli(["vm", "copy-file", "ic1", "\(host)/big.bin", "/tmp/big.bin"])
            #expect(refused.exitCode == 5 && refused.error.contains("disabled"), "\(refused.error)")
            #expect(await daemon.cli(["vm", "ic", "enable", "ic1", "fcopy"]).exitCode == 0)
            try await daemon.waitForServices("ic1", what: "fcopy negotiated") { $0.first { $0.name == "fcopy" }?.primaryStatus == "OK" }
            let put = await daemon.cli(["vm", "copy-file", "ic1", "\(host)/big.bin", "/tmp/in/big.bin", "--create-full-path"])
            #expect(put.exitCode == 0, "\(put.error)")
            let exists = await daemon.cli(["vm", "copy-file", "ic1", "\(host)/big.bin", "/tmp/in/big.bin"])
            #expect(exists.exitCode != 0 && exists.error.contains("--overwrite"), "\(exists.error)")
            let get = await daemon.cli(["vm", "copy-file", "ic1", "/tmp/in/big.bin", "\(host)/back.bin", "--from-guest"])
            #expect(get.exitCode == 0, "\(get.error)")
            let guestSum = await daemon.exec("ic1", ["md5sum", "/tmp/in/big.bin"]).output.prefix(32)
            let hostSum = await TestDaemon.run("/usr/bin/md5sum", ["\(host)/big.bin", "\(host)/back.bin"]).output
                .split(separator: "\n").map { $0.prefix(32) }
            #expect(hostSum.count == 2 && hostSum.allSatisfy { $0 == guestSum }, "\(guestSum) \(hostSum)")
            // A file system without room refuses the copy before any byte crosses, and keeps nothing.
            #expect(await daemon.exec("ic1", ["sh", "-c", "mkdir -p /mnt/small && mount -t tmpfs -o size=1m none /mnt/small"]).exitCode == 0)
            let full = await daemon.cli(["vm", "copy-file", "ic1", "\(host)/big.bin", "/mnt/small/big.bin"])
            #expect(full.exitCode != 0 && full.error.contains("/mnt/small has no room for 67108864 bytes"), "\(full.error)")
            #expect(await daemon.exec("ic1", ["ls", "-A", "/mnt/small"]).output.isEmpty, "the refused copy left nothing behind")
            // tmpfs is checked for room rather than reserved; one without a size limit reports no room and still takes files.
            try Data(repeating: 5, count: 1 << 20).write(to: URL(fileURLWithPath: "\(host)/one.bin"))
            #expect(await daemon.exec("ic1", ["sh", "-c", "mkdir -p /mnt/open && mount -t tmpfs -o size=0 none /mnt/open"]).exitCode == 0)
            let open = await daemon.cli(["vm", "copy-file", "ic1", "\(host)/one.bin", "/mnt/open/one.bin"])
            #expect(open.exitCode == 0, "a tmpfs without a size limit refused a copy: \(open.error)")
            #expect(await daemon.exec("ic1", ["stat", "-c", "%s", "/mnt/open/one.bin"]).output.hasPrefix("1048576"))

            // Application health through the heartbeat.
            #expect(await daemon.exec("ic1", ["viridian-guest", "health", "set", "degraded", "db down"]).exitCode == 0)
            try await daemon.waitForServices("ic1", what: "heartbeat Degraded") {
                let heartbeat = $0.first { $0.name == "heartbeat" }
                return heartbeat?.primaryStatus == "Degraded" && heartbeat?.secondaryStatus?.contains("db down") == true
            }
            #expect(await daemon.exec("ic1", ["viridian-guest", "health", "set", "ok"]).exitCode == 0)
            try await daemon.waitForIntegration("ic1")

            // Disabling a service removes its port from the guest; enabling brings it back.
            #expect(await daemon.cli(["vm", "ic", "disable", "ic1", "kvp"]).exitCode == 0)
            let ports = await daemon.exec("ic1", ["sh", "-c", "cat /sys/class/virtio-ports/*/name"]).output
            #expect(!ports.contains("org.viridian.ic.kvp") && ports.contains("org.viridian.ic.session"), "\(ports)")
            #expect(await daemon.cli(["vm", "kvp", "ic1"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "ic", "enable", "ic1", "kvp"]).exitCode == 0)
            try await daemon.waitForServices("ic1", what: "kvp back") { $0.first { $0.name == "kvp" }?.primaryStatus == "OK" }

            let beforeHang = try await daemon.json([EventRecord].self, ["events", "--vm", "ic1"])
            #expect(!beforeHang.contains { $0.message.contains("heartbeat of VM 'ic1' stopped") }, "the pause lost no heartbeat")

            // A hung agent: Lost Communication within the documented 5 s (plus the polling), then back.
            let agentPID = "$(cat /run/viridian-guest/agent.pid)"
            #expect(await daemon.exec("ic1", ["sh", "-c", "(sleep 1; kill -STOP \(agentPID); sleep 15; kill -CONT \(agentPID)) >/dev/null 2>&1 &"]).exitCode == 0)
            try await daemon.waitForServices("ic1", timeout: .seconds(12), what: "Lost Communication after a hang") {
                $0.first { $0.name == "heartbeat" }?.primaryStatus == "Lost Communication"
            }
            try await daemon.waitForIntegration("ic1", timeout: .seconds(30))
            // A killed agent closes its ports: Lost Communication at once; the init script brings it back.
            #expect(await daemon.exec("ic1", ["sh", "-c", "(sleep 1; /etc/init.d/viridian-guest stop; sleep 3; /etc/init.d/viridian-guest start) >/dev/null 2>&1 &"]).exitCode == 0)
            try await daemon.waitForServices("ic1", timeout: .seconds(5), what: "Lost Communication after a kill") {
                $0.first { $0.name == "heartbeat" }?.primaryStatus == "Lost Communication"
            }
            try await daemon.waitForIntegration("ic1", timeout: .seconds(30))

            // Stop goes through the shutdown service first and says so.
            let stop = await daemon.cli(["vm", "stop", "ic1", "--json"])
            #expect(stop.exitCode == 0 && stop.output.contains("the shutdown service (viridian-guest)"), "\(stop.output)")
            let events = try await daemon.json([EventRecord].self, ["events", "--vm", "ic1"])
            #expect(events.contains { $0.message.contains("runs integration services \(Release.current)") })
            #expect(events.contains { $0.message.contains("heartbeat of VM 'ic1' stopped") })
        }
    }

    @Test("vm exec -i carries 64 MiB intact; a program that reads nothing holds back only its own session and loses nothing", .guests(1))
    func execInputBackpressure() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("pipe1")
            #expect(await daemon.cli(["vm", "start", "pipe1"]).exitCode == 0)
            try await daemon.waitForIntegration("pipe1")
            let file = "\(daemon.stateDirectory)/input.bin"
            #expect(await TestDaemon.run("/bin/sh", ["-c", "head -c 67108864 /dev/urandom > \(file)"]).exitCode == 0)
            let hostSum = await TestDaemon.run("/usr/bin/sha256sum", [file]).output.prefix(64)
            let cli = "VIRIDIAN_HOST=\(daemon.socket) \(BuildProducts.viridian)"
            let piped = await TestDaemon.run("/bin/sh", ["-c", "\(cli) vm exec pipe1 -i -- sha256sum < \(file)"])
            #expect(piped.exitCode == 0 && piped.output.prefix(64) == hostSum, "the guest read what was sent: \(piped.output) vs \(hostSum); \(piped.error)")

            // A guest program that reads nothing holds back only its own input: the agent takes input
            // within credit it grants as the program reads, so the port stays free, and another session
            // (the one that lets the program go on) runs meanwhile. Before, the agent's port reader waited on
            // the program and every session of the VM hung with it. Once it reads, every byte arrives.
            let sent = "\(daemon.stateDirectory)/sent-mib"
            let producer = "i=0; while [ $i -lt 64 ]; do head -c 1048576 /dev/zero || exit 1; i=$((i+1)); echo $i > \(sent); done"
            let reader = "while [ ! -e /tmp/go ]; do sleep 0.1; done; cat > /tmp/in.bin; stat -c %s /tmp/in.bin; rm /tmp/in.bin"
            let slow = Task { await TestDaemon.run("/bin/sh", ["-c", "\(producer) | \(cli) vm exec pipe1 -i -- sh -c '\(reader)'"]) }
            func sentMiB() -> Int { Int((try? String(contentsOfFile: sent, encoding: .utf8))?.trimmingWhitespace() ?? "") ?? 0 }
            try await eventually("the CLI takes 2 MiB of input (more than the agent's 1 MiB window)", timeout: .seconds(60)) { sentMiB() >= 2 }
            #expect(await daemon.exec("pipe1", ["touch", "/tmp/go"]).exitCode == 0, "a second session ran while the first one's input waited")
            let result = await slow.value
            #expect(result.exitCode == 0 && result.output.trimmingWhitespace() == "67108864", "\(result)")
        }
    }

    @Test("version management: warning for an older agent, setup disk upgrade, ic update and its rollback", .guests(2))
    func versionManagement() async throws {
        let legacy = try await AgentBundles.legacyGuest()
        try await TestDaemon.with { daemon in
            try await daemon.createDirectBootVM("old1", files: legacy)
            try await daemon.createDirectBootVM("old2", files: legacy)
            let insert = await daemon.cli(["vm", "ic", "insert-disk", "old1"])
            #expect(insert.exitCode == 0, "\(insert.error)")
            #expect(await daemon.cli(["vm", "start", "old1"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "old2"]).exitCode == 0)
            try await daemon.waitForIntegration("old1", release: "0.1.0")
            try await daemon.waitForIntegration("old2", release: "0.1.0")

            let report = try await daemon.json([IntegrationReportEntry].self, ["ic", "report"])
            #expect(report.count == 2 && report.allSatisfy {
                $0.upgradeDue && $0.version == "0.1.0" && $0.hostVersion == Release.current
            }, "\(report)")
            try await Task.sleep(for: .seconds(3))
            let warnings = try await daemon.json([EventRecord].self, ["events", "--vm", "old1"])
                .filter { $0.level == .warning && $0.message.contains("older than this host's") }
            #expect(warnings.count == 1, "one warning per change, not per heartbeat: \(warnings)")

            // The setup disk: the installer shows both releases, upgrades, and the agent restarts without a reboot.
            let install = await daemon.exec("old1", ["sh", "-c",
                "mkdir -p /mnt/cd && mount -t iso9660 -o ro /dev/sr0 /mnt/cd && sh /mnt/cd/install.sh"])
            #expect(install.exitCode == 0 && install.output.contains("installed: 0.1.0")
                    && install.output.contains("offered: \(Release.current)"), "\(install)")
            try await daemon.waitForIntegration("old1", release: Release.current)
            let again = await daemon.exec("old1", ["sh", "/mnt/cd/install.sh"])
            #expect(again.exitCode == 0 && again.output.contains("up to date"), "\(again)")

            // In place, through file copy and a session.
            let update = await daemon.cli(["ic", "update", "old2", "--json"])
            #expect(update.exitCode == 0, "\(update.error)")
            let results = try WireJSON.decoder().decode([IntegrationUpdateResult].self, from: Data(update.output.utf8))
            #expect(results.map(\.result) == [.upgraded] && results.first?.from == "0.1.0" && results.first?.to == Release.current,
                    "\(results)")
            let services = try await daemon.client.integrationServices("old2")
            #expect(services.first { $0.name == "fcopy" }?.enabled == false, "ic update restores file copy's setting")

            // A new agent that does not come up is rolled back by the guest.
            let broken = "\(daemon.stateDirectory)/broken-agent"
            try "#!/bin/sh\n[ \"$1\" = version ] && { echo 9.9.9; exit 0; }\nexit 1\n".write(toFile: broken, atomically: true, encoding: .utf8)
            chmod(broken, 0o755)
            let rollback = await daemon.cli(["ic", "update", "old2", "--force", "--agent-file", broken, "--json"])
            #expect(rollback.exitCode != 0, "\(rollback)")
            let rolledBack = try WireJSON.decoder().decode([IntegrationUpdateResult].self, from: Data(rollback.output.utf8))
            #expect(rolledBack.map(\.result) == [.rolledBack] && rolledBack.first?.to == Release.current, "\(rolledBack)")
            try await daemon.waitForIntegration("old2", release: Release.current)

            let after = try await daemon.json([IntegrationReportEntry].self, ["ic", "report"])
            #expect(after.allSatisfy { !$0.upgradeDue && $0.version == Release.current }, "\(after)")
        }
    }

    @Test("qemu-guest-agent fallback, and a hostile guest that sends garbage leaves every other VM healthy", .guests(2))
    func fallbackAndHostileGuest() async throws {
        try await TestDaemon.with { daemon in
            let build = await daemon.cli(["image", "test-guest", "--agent", "qemu-guest-agent"])
            try #require(build.exitCode == 0, "\(build.error)")
            #expect(await daemon.cli(["vm", "create", "qga1", "--image", "test-guest-qga", "--memory", "256M"]).exitCode == 0)
            try await daemon.createTestVM("bad1")
            #expect(await daemon.cli(["vm", "start", "qga1"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "bad1"]).exitCode == 0)
            try await daemon.waitForServices("qga1", timeout: .seconds(90), what: "qemu-guest-agent answers") {
                $0.first { $0.name == "heartbeat" }?.agent?.hasPrefix("qemu-guest-agent") == true
            }
            let services = try await daemon.json([IntegrationServiceStatus].self, ["vm", "ic", "qga1"])
            #expect(services.first { $0.name == "kvp" }?.primaryStatus == "No Contact", "qemu-guest-agent has no KVP")
            #expect(services.first { $0.name == "session" }?.agent?.hasPrefix("qemu-guest-agent") == true)

            let echo = await daemon.exec("qga1", ["sh", "-c", "echo through qga; exit 3"])
            #expect(echo.exitCode == 3 && echo.output == "through qga\n", "\(echo)")
            #expect(await daemon.cli(["vm", "ic", "enable", "qga1", "fcopy"]).exitCode == 0)
            let host = daemon.stateDirectory
            try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: URL(fileURLWithPath: "\(host)/small.bin"))
            #expect(await daemon.cli(["vm", "copy-file", "qga1", "\(host)/small.bin", "/tmp/small.bin"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "copy-file", "qga1", "/tmp/small.bin", "\(host)/small.back", "--from-guest"]).exitCode == 0)
            #expect(FileManager.default.contents(atPath: "\(host)/small.back") == FileManager.default.contents(atPath: "\(host)/small.bin"))
            let frozen = await daemon.cli(["vm", "freeze", "qga1", "--json"])
            #expect(frozen.exitCode == 0 && frozen.output.contains("qemu-guest-agent"), "\(frozen)")
            #expect(await daemon.cli(["vm", "thaw", "qga1"]).exitCode == 0)

            // bad1 stops its agent and writes garbage, an oversized frame and a flood to every service port.
            try await daemon.waitForIntegration("bad1")
            let attack = """
                (sleep 1; /etc/init.d/viridian-guest stop
                for port in /sys/class/virtio-ports/*; do
                    case "$(cat $port/name)" in org.viridian.ic.*) ;; *) continue ;; esac
                    device=/dev/${port##*/}
                    head -c 65536 /dev/urandom > $device
                    printf '\\177\\377\\377\\377\\000\\000\\000\\000\\000' > $device
                    while :; do printf '\\000\\000\\000\\046\\000\\000\\000\\000\\000{"type":"beat","body":{"health":"ok"}}'; done | head -c 400000 > $device
                done
                sleep 6; /etc/init.d/viridian-guest start) >/dev/null 2>&1 &
                """
            #expect(await daemon.exec("bad1", ["sh", "-c", attack]).exitCode == 0)
            try await eventually("the daemon notices the hostile guest", timeout: .seconds(60)) {
                let events = (try? await daemon.client.events(vm: "bad1")) ?? []
                return events.contains { $0.level == .warning && $0.message.contains("broke the") }
            }
            // Meanwhile the other VM and the API are fine.
            for _ in 0..<3 {
                #expect(await daemon.exec("qga1", ["true"]).exitCode == 0)
                #expect(await daemon.cli(["host", "show"]).exitCode == 0)
            }
            // And once the guest behaves, its services come back.
            try await daemon.waitForIntegration("bad1", timeout: .seconds(90))
            #expect(await daemon.exec("bad1", ["echo", "recovered"]).output == "recovered\n")

            let stop = await daemon.cli(["vm", "stop", "qga1", "--json"])
            #expect(stop.exitCode == 0 && stop.output.contains("qemu-guest-agent"), "\(stop.output)")
        }
    }
}
