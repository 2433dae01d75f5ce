import APITypes
import Foundation
import Testing

@Suite("Moving VMs between hosts and between folders",
       .enabled(if: HostSupport.canBoot && AgentBundles.available,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing)")))
struct MigrationTests {
    @Test("a live move keeps the guest running: uptime, console, integration services and clock follow it; an Off VM moves too")
    func liveMove() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            try await source.createTestVM("lm1")
            #expect(await source.cli(["vm", "start", "lm1"]).exitCode == 0)
            try await source.waitForIntegration("lm1")
            try await source.startDirtying("lm1")
            let before = try await source.guestUptime("lm1")

            let move = await source.cli(["vm", "move", "lm1", "--to", "host-2"])
            #expect(move.exitCode == 0, "\(move.error)")
            #expect(move.output.contains("live migration to host-2"), "\(move.output)")
            #expect(await source.state(of: "lm1") == nil)
            #expect(await destination.state(of: "lm1") == .running)
            #expect(source.runtimeFolders.isEmpty)

            // The same guest, still running: its uptime went on, its writer too.
            let services = try await destination.waitForIntegration("lm1", timeout: .seconds(30))
            let after = try await destination.guestUptime("lm1")
            #expect(after > before, "uptime \(before) → \(after)")
            let rounds = await destination.exec("lm1", ["cat", "/mnt/root/rounds"]).output
            try await eventually("the guest's writer keeps going") {
                await destination.exec("lm1", ["cat", "/mnt/root/rounds"]).output != rounds
            }
            // Its clock is corrected after the move, its console answers on the destination.
            let timesync = try #require(services.first { $0.name == "timesync" })
            #expect(timesync.primaryStatus == "OK")
            let guestTime = Double(await destination.exec("lm1", ["date", "+%s"]).output.trimmingWhitespace()) ?? 0
            #expect(abs(guestTime - Date().timeIntervalSince1970) < 3)
            #expect(await destination.exec("lm1", ["sh", "-c", "echo console-after-move > /dev/ttyS0"]).exitCode == 0)
            try await destination.waitForConsole("lm1", contains: "console-after-move", timeout: .seconds(20))
            let events = await destination.cli(["events", "--vm", "lm1"]).output
            #expect(events.contains("arrived from host 'host-1' (live move)"), "\(events)")

            // Back again, then an Off VM moves without QEMU migration.
            #expect(await destination.cli(["vm", "move", "lm1", "--to", "host-1"]).exitCode == 0)
            #expect(await source.state(of: "lm1") == .running)
            #expect(await source.cli(["vm", "stop", "lm1", "--turn-off"]).exitCode == 0)
            let offline = await source.cli(["vm", "move", "lm1", "--to", "host-2"])
            #expect(offline.exitCode == 0 && offline.output.contains("Off"), "\(offline)")
            #expect(await destination.state(of: "lm1") == .off)
            #expect(await destination.cli(["vm", "start", "lm1"]).exitCode == 0)
            try await destination.waitForIntegration("lm1")
        }
    }

    @Test("a shared-nothing move copies the disks while the guest writes; the data is identical")
    func sharedNothingMove() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            try await source.createTestVM("sn1")
            #expect(await source.cli(["vm", "start", "sn1"]).exitCode == 0)
            try await source.waitForIntegration("sn1")
            let write = await source.exec("sn1", ["sh", "-c", "dd if=/dev/urandom of=/mnt/root/payload bs=1M count=24 2>/dev/null; sync; md5sum /mnt/root/payload"])
            let checksum = try #require(write.output.split(separator: " ").first.map(String.init), "\(write)")
            try await source.startDirtying("sn1")
            let oldDisk = try #require(try await source.client.vm("sn1").drives.first?.path)
            let folder = "\(destination.stateDirectory)/moved-disks"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

            let missing = await source.cli(["vm", "move", "sn1", "--to", "host-2", "--include-storage", "--destination-path", "/no/such/folder"])
            #expect(missing.exitCode != 0 && missing.error.contains("does not exist"), "\(missing.error)")
            #expect(await source.state(of: "sn1") == .running)

            let move = await source.cli(["vm", "move", "sn1", "--to", "host-2", "--include-storage", "--destination-path", folder])
            #expect(move.exitCode == 0, "\(move.error)")
            let newDisk = try #require(try await destination.client.vm("sn1").drives.first?.path)
            #expect(newDisk.hasPrefix(folder + "/"))
            #expect(!FileManager.default.fileExists(atPath: oldDisk), "the source's disk is deleted after the move")
            let read = await destination.exec("sn1", ["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches; md5sum /mnt/root/payload"])
            #expect(read.output.hasPrefix(checksum), "\(read)")
            // The copy is a whole disk: the guest's file system checks clean after a stop.
            #expect(await destination.cli(["vm", "stop", "sn1"]).exitCode == 0)
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", newDisk])
            #expect(check.exitCode == 0, "\(check.output)\(check.error)")
        }
    }

    @Test("only peers that prove their certificate can move VMs; moves that cannot work are refused before anything starts")
    func refusals() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            try await source.createTestVM("rf1")
            #expect(await source.cli(["vm", "start", "rf1"]).exitCode == 0)

            // A peer entry with the wrong certificate (another host's): the listener cannot prove it is that peer.
            let stranger = try TestDaemon()
            stranger.arguments = ["--host-name", "stranger"]
            try await stranger.start()
            let port = try #require(try await destination.client.host().migrationListener)
            do {
                try await hosts.trust(stranger, as: "impostor", at: port, on: source)
            } catch {
                await stranger.tearDown()
                throw error
            }
            await stranger.tearDown()
            let impostor = await source.cli(["vm", "move", "rf1", "--to", "impostor"])
            #expect(impostor.exitCode != 0 && impostor.error.contains("did not prove its identity"), "\(impostor.error)")
            let peers = try await source.json([PeerInfo].self, ["host", "peer", "list"])
            #expect(peers.first { $0.name == "host-2" }?.status == "Connected")
            #expect(peers.first { $0.name == "impostor" }?.status?.contains("did not prove its identity") == true)

            // A destination that no longer trusts this host refuses it at the handshake.
            #expect(await destination.cli(["host", "peer", "remove", "host-1"]).exitCode == 0)
            let untrusted = await source.cli(["vm", "move", "rf1", "--to", "host-2"])
            #expect(untrusted.exitCode != 0 && untrusted.error.contains("refused this host's certificate"), "\(untrusted.error)")
            try await hosts.trust(source, as: "host-1", at: "127.0.0.1:1", on: destination)

            // Too little memory on the destination.
            let memory = try #require(try await destination.client.host().memoryMiB)
            #expect(await destination.cli(["host", "set", "--memory-reserve", String(memory - 100)]).exitCode == 0)
            let tooBig = await source.cli(["vm", "move", "rf1", "--to", "host-2"])
            #expect(tooBig.exitCode != 0 && tooBig.error.contains("MiB left for VMs"), "\(tooBig.error)")
            #expect(await destination.cli(["host", "set", "--memory-reserve", "512"]).exitCode == 0)

            // Bad requests.
            #expect(await source.cli(["vm", "move", "rf1", "--to", "nobody"]).error.contains("no peer named 'nobody'"))
            #expect(await source.cli(["vm", "move", "rf1", "--to", "host-2", "--channels", "99"]).exitCode != 0)
            #expect(await source.cli(["vm", "move", "rf1", "--to", "host-2", "--destination-path", "/tmp"]).error.contains("--include-storage"))
            #expect(await source.cli(["host", "set", "--migration-networks", "10.0.0.0/99"]).error.contains("not a network"))
            #expect(await source.cli(["host", "peer", "add", "x", "--address", "nowhere", "--certificate", "/etc/hostname"]).exitCode != 0)

            // Nothing moved, nothing left behind.
            #expect(await source.state(of: "rf1") == .running)
            #expect(await destination.state(of: "rf1") == nil)
            #expect(destination.runtimeFolders.isEmpty)
        }
    }
}
