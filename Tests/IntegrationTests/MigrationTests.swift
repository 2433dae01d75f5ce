import APITypes
import Foundation
import Testing

@Suite("Moving VMs between hosts and between folders",
       .enabled(if: HostSupport.canBoot && AgentBundles.available,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing)")))
struct MigrationTests {
    @Test("a live move keeps the guest running: uptime, console, integration services and clock follow it; an Off VM moves too", .guests(2))
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
            // A round rewrites 48 MiB from /dev/urandom: slow under TCG when the whole suite shares two cores.
            try await destination.expectWriterProgress("lm1")
            await destination.expectHealthyKernel("lm1")
            // Its clock is corrected after the move, its console answers on the destination.
            let timesync = try #require(services.first { $0.name == "timesync" })
            #expect(timesync.primaryStatus == "OK")
            let guestTime = Double(await destination.exec("lm1", ["date", "+%s"]).output.trimmingWhitespace()) ?? 0
            #expect(abs(guestTime - Date().timeIntervalSince1970) < 3)
            #expect(await destination.exec("lm1", ["sh", "-c", "echo console-after-move > /dev/ttyS0"]).exitCode == 0)
            try await destination.waitForConsole("lm1", contains: "console-after-move", timeout: .seconds(20))
            let events = await destination.cli(["events", "--vm", "lm1"]).output
            #expect(events.contains("arrived from host 'host-1' (live move)"), "\(events)")

            // Back again (still writing), then an Off VM moves without QEMU migration.
            #expect(await destination.cli(["vm", "move", "lm1", "--to", "host-1"]).exitCode == 0)
            #expect(await source.state(of: "lm1") == .running)
            try await source.waitForIntegration("lm1", timeout: .seconds(30))
            await source.expectHealthyKernel("lm1")
            #expect(await source.cli(["vm", "stop", "lm1", "--turn-off"]).exitCode == 0)
            let offline = await source.cli(["vm", "move", "lm1", "--to", "host-2"])
            #expect(offline.exitCode == 0 && offline.output.contains("Off"), "\(offline)")
            #expect(await destination.state(of: "lm1") == .off)
            #expect(await destination.cli(["vm", "start", "lm1"]).exitCode == 0)
            try await destination.waitForIntegration("lm1")

            // A Saved VM moves with its memory state and, here, its disks; starting it restores the same guest.
            #expect(await destination.exec("lm1", ["sh", "-c", "echo kept > /mnt/root/saved-marker; sync"]).exitCode == 0)
            let uptimeAtSave = try await destination.guestUptime("lm1")
            #expect(await destination.cli(["vm", "save", "lm1"]).exitCode == 0)
            let folder = "\(source.stateDirectory)/arrived"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let saved = await destination.cli(["vm", "move", "lm1", "--to", "host-1", "--include-storage", "--destination-path", folder])
            #expect(saved.exitCode == 0 && saved.output.contains("Saved"), "\(saved)")
            #expect(await source.state(of: "lm1") == .saved)
            #expect(await destination.state(of: "lm1") == nil)
            #expect(await source.cli(["vm", "start", "lm1"]).exitCode == 0)
            try await source.waitForIntegration("lm1")
            #expect(try await source.guestUptime("lm1") > uptimeAtSave)
            #expect(await source.exec("lm1", ["cat", "/mnt/root/saved-marker"]).output == "kept\n")
        }
    }

    @Test("ten moves back and forth while the guest rewrites its memory leave it running with a healthy kernel", .guests(2))
    func movesBackAndForth() async throws {
        try await TestHosts.with(count: 2) { hosts in
            try await hosts[0].createTestVM("bf1")
            #expect(await hosts[0].cli(["vm", "start", "bf1"]).exitCode == 0)
            try await hosts[0].waitForIntegration("bf1")
            try await hosts[0].startDirtying("bf1")
            for move in 0..<10 {
                let (from, to) = (hosts[move % 2], hosts[(move + 1) % 2])
                let result = await from.cli(["vm", "move", "bf1", "--to", "host-\((move + 1) % 2 + 1)"])
                try #require(result.exitCode == 0, "move \(move): \(result.error)")
                try await to.waitForIntegration("bf1", timeout: .seconds(30))
                try await to.expectWriterProgress("bf1")
                await to.expectHealthyKernel("bf1")
            }
        }
    }

    @Test("a shared-nothing move copies the disks while the guest writes; the data is identical", .guests(2))
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
            try await destination.waitForIntegration("sn1", timeout: .seconds(30))
            let read = await destination.exec("sn1", ["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches; md5sum /mnt/root/payload"])
            #expect(read.output.hasPrefix(checksum), "\(read)")
            await destination.expectHealthyKernel("sn1")
            // The copy is a whole disk: the guest's file system checks clean after a stop.
            #expect(await destination.cli(["vm", "stop", "sn1"]).exitCode == 0)
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", newDisk])
            #expect(check.exitCode == 0, "\(check.output)\(check.error)")
        }
    }

    @Test("only peers that prove their certificate can move VMs; moves that cannot work are refused before anything starts", .guests(1))
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

            // A destination that no longer trusts this host refuses it: at the handshake of a new connection, and on
            // every request over a connection made while it was trusted (the source keeps one per peer).
            #expect(await destination.cli(["host", "peer", "remove", "host-1"]).exitCode == 0)
            let untrusted = await source.cli(["vm", "move", "rf1", "--to", "host-2"])
            #expect(untrusted.exitCode != 0 && (untrusted.error.contains("refused this host's certificate")
                                                || untrusted.error.contains("not from a trusted peer")), "\(untrusted.error)")
            try await hosts.trust(source, as: "host-1", at: "127.0.0.1:1", on: destination)

            // Too little memory on the destination.
            let memory = try await destination.client.host().memoryMiB
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

    @Test("a cancelled move, a killed destination worker and a killed destination daemon leave the VM running on the source only", .guests(2))
    func failuresKeepTheVMOnTheSource() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            try await source.createTestVM("fl1")
            #expect(await source.cli(["vm", "start", "fl1"]).exitCode == 0)
            try await source.waitForIntegration("fl1")
            try await source.startDirtying("fl1")

            /// Starts a slow move and waits until its memory stream runs.
            func slowMove() async throws -> String {
                let started = await source.cli(["vm", "move", "fl1", "--to", "host-2", "--bandwidth", "2", "--no-wait"])
                try #require(started.exitCode == 0, "\(started.error)")
                let job = started.output.trimmingWhitespace()
                try await eventually("the memory stream runs") {
                    (try? await source.client.job(job))?.statusMessage?.contains("memory:") == true
                }
                #expect(await source.state(of: "fl1") == .migrating)
                return job
            }
            /// The VM runs on the source, answers, and the destination kept nothing.
            func stayedOnSource(_ job: String, _ state: JobState) async throws {
                let finished = try await source.waitForJob(job)
                #expect(finished.state == state, "\(finished)")
                #expect(await source.state(of: "fl1") == .running)
                try await source.waitForIntegration("fl1", timeout: .seconds(30))
                #expect(await source.exec("fl1", ["true"]).exitCode == 0)
                #expect(await destination.state(of: "fl1") == nil)
                try await eventually("the destination cleaned up") { destination.runtimeFolders.isEmpty }
            }

            // Cancelled while the memory streams.
            let cancelled = try await slowMove()
            #expect(await source.cli(["jobs", "cancel", cancelled]).exitCode == 0)
            try await stayedOnSource(cancelled, .cancelled)

            // The destination's worker dies mid-stream.
            let killedWorker = try await slowMove()
            let folder = try #require(destination.runtimeFolders.first)
            let pidText = try String(contentsOfFile: "\(destination.stateDirectory)/run/\(folder)/qemu.pid", encoding: .utf8)
            kill(try #require(Int32(pidText.trimmingWhitespace())), SIGKILL)
            try await stayedOnSource(killedWorker, .failed)

            // The destination's daemon dies mid-stream; when it comes back it discards the half-arrived VM.
            let killedDaemon = try await slowMove()
            await destination.kill()
            let failed = try await source.waitForJob(killedDaemon)
            #expect(failed.state == .failed && failed.error?.message.contains("lost contact") == true, "\(failed)")
            #expect(await source.state(of: "fl1") == .running)
            try await destination.start()
            try await stayedOnSource(killedDaemon, .failed)
            let events = await destination.cli(["events"]).output
            #expect(events.contains("discarded the half-arrived VM 'fl1'"), "\(events)")

            // After all that, the move works, and the guest is whole.
            #expect(await source.cli(["vm", "move", "fl1", "--to", "host-2"]).exitCode == 0)
            #expect(await destination.state(of: "fl1") == .running)
            try await destination.waitForIntegration("fl1", timeout: .seconds(30))
            await destination.expectHealthyKernel("fl1")
        }
    }

    @Test("moves beyond the host's limit queue in order; storage moves while the VM runs and while it is Off", .guests(3))
    func queueingAndStorageMoves() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            #expect(await source.cli(["host", "set", "--max-migrations", "1"]).exitCode == 0)
            for name in ["q1", "q2", "q3"] {
                try await source.createTestVM(name)
                #expect(await source.cli(["vm", "start", name]).exitCode == 0)
            }
            for name in ["q1", "q2", "q3"] { try await source.waitForIntegration(name) }
            var jobs: [String] = []
            for name in ["q1", "q2", "q3"] {
                let move = await source.cli(["vm", "move", name, "--to", "host-2", "--bandwidth", "40", "--no-wait"])
                try #require(move.exitCode == 0, "\(move.error)")
                jobs.append(move.output.trimmingWhitespace())
            }
            let listed = try await source.json([JobInfo].self, ["jobs"]).filter { jobs.contains($0.id) }
            #expect(listed.filter { $0.state == .queued }.count == 2, "\(listed.map(\.state))")
            #expect(listed.filter { $0.state == .running }.count == 1)
            // A queued move can be cancelled: it never starts, the VM stays.
            #expect(await source.cli(["jobs", "cancel", jobs[2]]).exitCode == 0)
            #expect(try await source.waitForJob(jobs[2]).state == .cancelled)
            #expect(await source.state(of: "q3") == .running)
            let again = await source.cli(["vm", "move", "q3", "--to", "host-2", "--bandwidth", "40", "--no-wait"])
            jobs[2] = again.output.trimmingWhitespace()
            var finishedOrder: [String] = []
            for job in jobs {
                let finished = try await source.waitForJob(job)
                #expect(finished.state == .completed, "\(finished)")
                finishedOrder.append(finished.vm ?? "")
            }
            let times = try await jobs.asyncMap { try await source.client.job($0).finishedAt ?? .distantFuture }
            #expect(times == times.sorted(), "FIFO: \(finishedOrder)")
            #expect(try await destination.client.listVMs().filter { $0.state == .running }.count == 3)

            // Storage moves on the destination: running (mirror and switch), then Off (copy).
            let folder = "\(destination.stateDirectory)/elsewhere"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try await destination.waitForIntegration("q1", timeout: .seconds(30))
            let write = await destination.exec("q1", ["sh", "-c", "dd if=/dev/urandom of=/mnt/root/payload bs=1M count=8 2>/dev/null; sync; md5sum /mnt/root/payload"])
            let old = try #require(try await destination.client.vm("q1").drives.first?.path)
            let live = await destination.cli(["vm", "move-storage", "q1", "--destination-path", folder])
            #expect(live.exitCode == 0 && live.output.contains("while the VM ran"), "\(live)")
            #expect(try await destination.client.vm("q1").drives.first?.path?.hasPrefix(folder) == true)
            #expect(!FileManager.default.fileExists(atPath: old))
            let read = await destination.exec("q1", ["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches; md5sum /mnt/root/payload"])
            #expect(read.output == write.output && !read.output.isEmpty, "\(write) \(read)")
            #expect(await destination.cli(["vm", "stop", "q2", "--turn-off"]).exitCode == 0)
            let offline = await destination.cli(["vm", "move-storage", "q2", "--destination-path", folder])
            #expect(offline.exitCode == 0, "\(offline)")
            #expect(await destination.cli(["vm", "start", "q2"]).exitCode == 0)
            try await destination.waitForIntegration("q2")
            let clash = await destination.cli(["vm", "move-storage", "q2", "--destination-path", "/no/such/folder"])
            #expect(clash.exitCode != 0 && clash.error.contains("does not exist"), "\(clash.error)")
        }
    }

    @Test("host drain empties a host onto two peers within its migration limit, and --status reports each move", .guests(3))
    func drainToTwoPeers() async throws {
        try await TestHosts.with(count: 3) { hosts in
            let host = hosts[0]
            #expect(await host.cli(["host", "set", "--max-migrations", "1"]).exitCode == 0)
            for name in ["dr1", "dr2", "dr3"] { try await host.createTestVM(name) }
            for name in ["dr1", "dr2"] { #expect(await host.cli(["vm", "start", name]).exitCode == 0) }
            for name in ["dr1", "dr2"] { try await host.waitForIntegration(name) }

            let drain = await host.cli(["host", "drain"])
            #expect(drain.exitCode == 0 && drain.output.contains("moved 3 VMs"), "\(drain)")
            #expect(try await host.client.listVMs().isEmpty)
            let status = try await host.json(DrainStatus.self, ["host", "drain", "--status"])
            #expect(status.job?.state == .completed && status.moves.count == 3 && status.moves.allSatisfy { $0.state == .completed })
            let arrived = try await hosts[1].client.listVMs() + hosts[2].client.listVMs()
            #expect(Set(arrived.map(\.name)) == ["dr1", "dr2", "dr3"])
            #expect(arrived.filter { $0.state == .running }.count == 2)
            let second = try await hosts[1].client.listVMs()
            let third = try await hosts[2].client.listVMs()
            #expect(!second.isEmpty && !third.isEmpty, "spread over both peers")
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
