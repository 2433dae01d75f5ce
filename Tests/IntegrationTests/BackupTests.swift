import APIClient
import APITypes
import Foundation
import Testing

/// Backups with the real test guest, on qcow2, raw and VHDX disks at once: a full point, then
/// incrementals while the guest writes a sequence-numbered, fsync'ed log, across a clean stop (an
/// Off VM's backup), a daemon restart and a new worker; a crashed worker makes the next point full
/// and says why. Each point restores to exactly its guest-visible bytes; verify finds a flipped
/// byte; prune keeps every remaining point restorable.
@Suite("Backups", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct BackupTests {
    /// The guest's two data disks, told apart by size: the log disk (64 MiB, raw) and the VHDX (32 MiB).
    private static let devices = "for b in /sys/block/[sv]d*; do case $(cat $b/size) in 131072) log=/dev/${b##*/};; 65536) vhdx=/dev/${b##*/};; esac; done"

    @Test("full and incremental points of a running and an Off VM on every format, restored byte for byte; verify, prune, a crash and a killed daemon",
          .guests(2))
    func chain() async throws {
        try await TestDaemon.with { daemon in try await run(daemon) }
    }

    private func run(_ daemon: TestDaemon) async throws {
        let repository = "\(daemon.stateDirectory)/repository"
        try await daemon.createTestVM("bk")
        let logDisk = "\(daemon.stateDirectory)/log.raw"
        let vhdxDisk = "\(daemon.stateDirectory)/data.vhdx"
        #expect(await daemon.cli(["vhd", "new", logDisk, "--size", "64M", "--format", "raw"]).exitCode == 0)
        #expect(await daemon.cli(["vhd", "new", vhdxDisk, "--size", "32M"]).exitCode == 0)
        #expect(await daemon.cli(["vm", "disk", "add", "bk", logDisk]).exitCode == 0)
        #expect(await daemon.cli(["vm", "disk", "add", "bk", vhdxDisk]).exitCode == 0)
        #expect(await daemon.cli(["vm", "start", "bk"]).exitCode == 0)
        try await daemon.waitForIntegration("bk")
        try await startLog(daemon)

        // Point 1: full (the repository is new). Point 2: incremental, while the log goes on.
        var expected: [String: (vhdx: String, logFrom: Int, logTo: Int)] = [:]
        var logRecordsUntilIncremental = (from: 0, to: 0)
        for (number, mode) in [(1, "--full"), (2, "--incremental")] {
            let vhdx = try await writeVHDX(daemon, seed: number)
            let from = try await logPosition(daemon)
            let backup = await daemon.cli(["vm", "backup", "bk", "--to", repository, mode])
            #expect(backup.exitCode == 0 && backup.output.contains(number == 1 ? "full" : "incremental"), "\(backup.output)\(backup.error)")
            let to = try await logPosition(daemon)
            expected[try await newestPoint(daemon, repository)] = (vhdx, from, to)
            if number == 1 { logRecordsUntilIncremental.from = from } else { logRecordsUntilIncremental.to = to }
        }
        // A clean stop keeps the change tracking: the Off VM's point is incremental.
        #expect(await daemon.cli(["vm", "stop", "bk"]).exitCode == 0)
        let off = await daemon.cli(["vm", "backup", "bk", "--to", repository, "--incremental"])
        #expect(off.exitCode == 0 && off.output.contains("incremental"), "\(off.output)\(off.error)")
        let second = try #require(expected.values.max { $0.logTo < $1.logTo })
        expected[try await newestPoint(daemon, repository)] = (second.vhdx, second.logTo, 16000)
        // A daemon restart (VMs Off, as after a host reboot) and a new worker: still incremental.
        await daemon.stop()
        try await daemon.start()
        #expect(await daemon.cli(["vm", "start", "bk"]).exitCode == 0)
        try await daemon.waitForIntegration("bk")
        let third = try await writeVHDX(daemon, seed: 3)
        let afterRestart = await daemon.cli(["vm", "backup", "bk", "--to", repository])
        #expect(afterRestart.exitCode == 0 && afterRestart.output.contains("incremental"), "\(afterRestart.output)\(afterRestart.error)")
        let thirdPoint = try await newestPoint(daemon, repository)
        expected[thirdPoint] = (third, 0, 0)

        // viridiand killed after a point's copy, before the chain names it: the chain is as it was,
        // and the next point reads everything (the bits were spent on a point that was not kept).
        await daemon.stop()
        daemon.environment["VIRIDIAN_FAILPOINTS"] = "backup-exit-after-copy"
        try await daemon.start()
        _ = await daemon.cli(["vm", "backup", "bk", "--to", repository, "--no-wait"])
        try await eventually("viridiand died at backup-exit-after-copy", timeout: .seconds(300)) { daemon.process?.isRunning == false }
        daemon.environment["VIRIDIAN_FAILPOINTS"] = nil
        try await daemon.start()
        #expect(try await daemon.json([BackupPointInfo].self, ["backup", "list", repository]).count == 4, "the interrupted point is not listed")
        let afterKill = await daemon.cli(["vm", "backup", "bk", "--to", repository, "--incremental"])
        #expect(afterKill.exitCode == 0 && afterKill.output.contains("full because a backup of the VM was interrupted"),
                "\(afterKill.output)\(afterKill.error)")

        // A crashed worker loses the bits: the next point is full and says why, in the job and the event log.
        let pid = try #require(try await daemon.client.vm("bk").workerPID)
        kill(pid, SIGKILL)
        try await eventually("the killed worker's VM is Off", timeout: .seconds(30)) { (try? await daemon.client.vm("bk").state) == .off }
        #expect(await daemon.cli(["vm", "start", "bk"]).exitCode == 0)
        try await daemon.waitForIntegration("bk")
        let afterCrash = await daemon.cli(["vm", "backup", "bk", "--to", repository, "--incremental"])
        #expect(afterCrash.exitCode == 0 && afterCrash.output.contains("full because") && afterCrash.output.contains("without saving"),
                "\(afterCrash.output)\(afterCrash.error)")
        let warnings = try await daemon.client.events(vm: "bk", limit: 200).map(\.message)
        #expect(warnings.contains { $0.contains("reads every block instead") }, "\(warnings)")

        let points = try await daemon.json([BackupPointInfo].self, ["backup", "list", repository])
        #expect(points.map(\.kind) == [.full, .incremental, .incremental, .incremental, .full, .full], "\(points)")
        // The first incremental holds the VHDX's new MiB, the log records written since the full point
        // began (4 KiB each, at most one 64 KiB tracking chunk more at each end), and the little the
        // guest's own root filesystem wrote (the test guest's ext4 is made without lazy initialisation,
        // so its kernel does not zero inode tables meanwhile); never the disks' unchanged bytes.
        let logBytes = (logRecordsUntilIncremental.to - logRecordsUntilIncremental.from) * 4096 + 2 * 65536
        let changedBound = (1 << 20) + 2 * 65536 + logBytes + (8 << 20)
        #expect(points[1].bytes <= changedBound && points[1].bytes < points[0].bytes,
                "an incremental holds what changed (at most \(changedBound) bytes, log records \(logRecordsUntilIncremental)): \(points.map(\.bytes))")
        #expect(await daemon.cli(["vm", "stop", "bk", "--turn-off"]).exitCode == 0)

        // Each point restores to exactly what the guest saw: the VHDX's bytes, and a log that is a
        // prefix no shorter than what was written before the point and no longer than after it.
        for (point, want) in expected.sorted(by: { $0.key < $1.key }) {
            let name = "r\(point.suffix(6))"
            let restored = await daemon.cli(["backup", "restore", repository, "--vm", "bk", "--point", point, "--as", name])
            #expect(restored.exitCode == 0, "\(restored.error)")
            let drives = try await daemon.client.vm(name).drives.compactMap(\.path)
            let vhdx = try #require(drives.first { $0.hasSuffix(".vhdx") })
            #expect(try await hostSHA(vhdx, format: "vhdx") == want.vhdx, "point \(point): the VHDX reads as the guest wrote it")
            if want.logTo > 0 {
                let log = try #require(drives.first { $0.hasSuffix(".img") })
                let length = try logPrefix(log)
                #expect(length >= want.logFrom && length <= want.logTo, "point \(point): log prefix \(length) in \(want.logFrom)...\(want.logTo)")
            }
        }
        // A restored VM boots.
        let firstRestored = "r\(try #require(expected.keys.sorted().first).suffix(6))"
        #expect(await daemon.cli(["vm", "start", firstRestored]).exitCode == 0)
        try await daemon.waitForIntegration(firstRestored)
        #expect(await daemon.cli(["vm", "stop", firstRestored, "--turn-off"]).exitCode == 0)

        // Over the Off original: its disks come back as they were at the third point.
        let over = await daemon.cli(["backup", "restore", repository, "--vm", "bk", "--point", thirdPoint])
        #expect(over.exitCode == 0, "\(over.error)")
        #expect(try await hostSHA(vhdxDisk, format: "vhdx") == third, "the original's VHDX is that of point \(thirdPoint)")

        // verify reads everything; a flipped byte is found, with its point and file.
        let verified = await daemon.cli(["backup", "verify", repository])
        #expect(verified.exitCode == 0 && verified.output.contains("every block matches"), "\(verified.output)\(verified.error)")
        let victim = "\(repository)/bk/\(points[1].point)/disk0.qcow2"
        let handle = try #require(FileHandle(forUpdatingAtPath: victim))
        try handle.seek(toOffset: 70_000)
        let byte = try #require(try handle.read(upToCount: 1))
        try handle.seek(toOffset: 70_000)
        try handle.write(contentsOf: Data([byte[0] ^ 0xff]))
        let damaged = await daemon.cli(["backup", "verify", repository, "--vm", "bk"])
        #expect(damaged.exitCode != 0 && damaged.error.contains(points[1].point) && damaged.error.contains("disk0.qcow2"), "\(damaged.error)")
        try handle.seek(toOffset: 70_000)
        try handle.write(contentsOf: byte)
        try handle.close()

        // prune folds the oldest points into the first kept one; every remaining point still restores.
        let pruned = await daemon.cli(["backup", "prune", repository, "--vm", "bk", "--keep", "4"])
        #expect(pruned.exitCode == 0, "\(pruned.error)")
        let kept = try await daemon.json([BackupPointInfo].self, ["backup", "list", repository])
        #expect(kept.map(\.point) == points.suffix(4).map(\.point) && kept.first?.kind == .full, "\(kept)")
        let foldedInto = try #require(kept.first?.point)
        #expect(await daemon.cli(["backup", "restore", repository, "--vm", "bk", "--point", foldedInto, "--as", "after-prune"]).exitCode == 0)
        let afterPrune = try #require(try await daemon.client.vm("after-prune").drives.compactMap(\.path).first { $0.hasSuffix(".vhdx") })
        #expect(try await hostSHA(afterPrune, format: "vhdx") == expected[foldedInto]?.vhdx, "the folded point reads as before")
        #expect(await daemon.cli(["backup", "verify", repository]).exitCode == 0)

        let notRepository = await daemon.cli(["backup", "list", daemon.stateDirectory])
        #expect(notRepository.exitCode != 0 && notRepository.error.contains("not a Viridian backup repository"), "\(notRepository.error)")
        let unknownPoint = await daemon.cli(["backup", "restore", repository, "--vm", "bk", "--point", "yesterday", "--as", "x"])
        #expect(unknownPoint.exitCode != 0 && unknownPoint.error.contains("no backup point 'yesterday'"), "\(unknownPoint.error)")
    }

    /// Starts the guest's log: record N (`seq N`, 4 KiB, fsync'ed) at block N of the log disk, in order.
    private func startLog(_ daemon: TestDaemon) async throws {
        let script = "\(Self.devices); i=0; while [ $i -lt 16000 ]; do i=$((i+1)); "
            + "printf 'seq %08d\\n' $i | dd of=$log bs=4096 seek=$i count=1 conv=sync,fsync 2>/dev/null; echo $i > /tmp/seq.next; mv /tmp/seq.next /tmp/seq; done"
        let result = await daemon.exec("bk", ["sh", "-c", "(\(script)) </dev/null >/dev/null 2>&1 &"])
        try #require(result.exitCode == 0, "starting the log failed: \(result.error)")
    }

    private func logPosition(_ daemon: TestDaemon) async throws -> Int {
        let result = await daemon.exec("bk", ["cat", "/tmp/seq"])
        return try #require(Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)), "the log position: \(result.output)\(result.error)")
    }

    /// Writes 1 MiB of new bytes into the VHDX (synced) and returns the SHA-256 of the whole device as the guest reads it.
    private func writeVHDX(_ daemon: TestDaemon, seed: Int) async throws -> String {
        let result = await daemon.exec("bk", ["sh", "-c", "\(Self.devices); dd if=/dev/urandom of=$vhdx bs=64k count=16 seek=\(seed * 40) conv=fsync 2>/dev/null && "
                                                 + "echo 3 > /proc/sys/vm/drop_caches && sha256sum $vhdx"])
        try #require(result.exitCode == 0, "writing the VHDX failed: \(result.error)")
        return String(result.output.prefix(64))
    }

    private func newestPoint(_ daemon: TestDaemon, _ repository: String) async throws -> String {
        try #require(try await daemon.json([BackupPointInfo].self, ["backup", "list", repository]).last?.point)
    }

    /// The SHA-256 of a disk's guest-visible bytes, read on the host.
    private func hostSHA(_ path: String, format: String) async throws -> String {
        let raw = path + ".check.raw"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let convert = await TestDaemon.run("/usr/bin/qemu-img", ["convert", "-U", "-f", format, "-O", "raw", path, raw])
        try #require(convert.exitCode == 0, "\(convert.error)")
        let sum = await TestDaemon.run("/usr/bin/sha256sum", [raw])
        return String(sum.output.prefix(64))
    }

    /// How many log records a raw log disk holds in order from the first; fails when a later record exists past a gap.
    private func logPrefix(_ path: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var length = 0
        var block = 1
        while (block + 1) * 4096 <= data.count {
            let record = String(decoding: data[(block * 4096)..<(block * 4096 + 13)], as: UTF8.self)
            if record == String(format: "seq %08d\n", block) {
                #expect(length == block - 1, "record \(block) comes after a gap at \(length + 1)")
                length = block
            }
            block += 1
        }
        return length
    }
}
