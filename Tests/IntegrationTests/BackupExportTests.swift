import APIClient
import APITypes
import Foundation
import Testing

/// libnbd's command-line tools (Debian's `libnbd-bin`): the external NBD client.
private enum LibNBD {
    static let installed = ["/usr/bin/nbdinfo", "/usr/bin/nbdcopy"].allSatisfy(FileManager.default.fileExists(atPath:))
}

/// Pull-mode backup with the real test guest, read by libnbd's own tools (`nbdcopy`, `nbdinfo`):
/// a running VM's export reads as the guest saw its disk at the instant while the guest goes on
/// writing; the second export's changed-block bitmap covers exactly what the guest wrote since the
/// first; a discarded export gives its changes back; an Off VM's export is held against a start
/// and ends by itself at its timeout; a client without the key gets nothing.
@Suite("Backup exports", .enabled(if: HostSupport.canBoot && LibNBD.installed, Comment(rawValue: HostSupport.missing + "; needs libnbd-bin")))
struct BackupExportTests {
    /// The guest's data disk, a 32 MiB VHDX (65536 sectors).
    private static let device = "for b in /sys/block/[sv]d*; do [ $(cat $b/size) = 65536 ] && disk=/dev/${b##*/}; done"
    private static let megabyte = 1 << 20

    @Test("exports of a running and an Off VM over NBD with TLS: point-in-time bytes, changed-block bitmaps, discard, timeout, no key no data",
          .guests(1))
    func exports() async throws {
        try await TestDaemon.with { daemon in try await run(daemon) }
    }

    private func run(_ daemon: TestDaemon) async throws {
        try await daemon.createTestVM("ex")
        let vhdx = "\(daemon.stateDirectory)/data.vhdx"
        #expect(await daemon.cli(["vhd", "new", vhdx, "--size", "32M"]).exitCode == 0)
        #expect(await daemon.cli(["vm", "disk", "add", "ex", vhdx]).exitCode == 0)
        #expect(await daemon.cli(["vm", "start", "ex"]).exitCode == 0)
        try await daemon.waitForIntegration("ex")

        // Export 1: nothing to count from yet, so no bitmap. It reads as the disk was at the
        // instant, though the guest overwrites that region right after.
        let atFirst = try await write(daemon, megabytes: 1, at: 2)
        let first = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export"])
        #expect(first.state == .serving && first.bitmapContext == nil && first.changedSince == nil && first.fullBecause != nil, "\(first)")
        #expect(first.applicationConsistent, "the guest froze for the instant")
        let disk = try #require(first.disks.first { $0.sizeBytes == 32 << 20 }, "the VHDX is exported: \(first.disks)")
        let afterFirst = try await write(daemon, megabytes: 1, at: 2)
        #expect(afterFirst != atFirst)
        #expect(try await exportedSHA(disk.uri, daemon) == atFirst, "the export reads as the disk was at its instant, not as the guest rewrote it")
        // TLS only, and only with the key.
        let plain = await TestDaemon.run("/usr/bin/nbdinfo", ["nbd://127.0.0.1:\(first.port)/\(disk.name)"])
        #expect(plain.exitCode != 0, "a client without TLS gets nothing: \(plain.output)")
        let wrongKey = "\(daemon.stateDirectory)/wrong.psk"
        try "viridian:\(String(repeating: "ab", count: 32))\n".write(toFile: wrongKey, atomically: true, encoding: .utf8)
        let guessed = await TestDaemon.run("/usr/bin/nbdinfo", ["nbds://viridian@127.0.0.1:\(first.port)/\(disk.name)?tls-psk-file=\(wrongKey)"])
        #expect(guessed.exitCode != 0, "a client with another key gets nothing: \(guessed.output)")
        // The VM is held while exported.
        let busy = await daemon.cli(["vm", "backup", "ex", "--to", "\(daemon.stateDirectory)/repository"])
        #expect(busy.exitCode != 0 && busy.error.contains("exporting backup"), "\(busy.error)")
        let stopped = await daemon.cli(["vm", "backup", "ex", "--export-stop"])
        #expect(stopped.exitCode == 0 && stopped.output.contains("completed"), "\(stopped.output)\(stopped.error)")

        // Export 2 counts from export 1: the rewrite at 2 MiB (after export 1's instant) and a new
        // write at 10 MiB, nothing else.
        _ = try await write(daemon, megabytes: 1, at: 10)
        let second = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export"])
        #expect(second.changedSince == first.token && second.bitmapContext == "qemu:dirty-bitmap:viridian-changes", "\(second)")
        let secondDisk = try #require(second.disks.first { $0.index == disk.index })
        #expect(try await dirtyRanges(secondDisk.uri) == [2 * Self.megabyte..<3 * Self.megabyte, 10 * Self.megabyte..<11 * Self.megabyte])
        // Discarded: its changes are not lost; export 3 still counts from export 1 and adds a write at 20 MiB.
        #expect(await daemon.cli(["vm", "backup", "ex", "--export-stop", "--discard"]).exitCode == 0)
        let atThird = try await write(daemon, megabytes: 1, at: 20)
        let third = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export", "--incremental"])
        #expect(third.changedSince == first.token, "\(third)")
        let thirdDisk = try #require(third.disks.first { $0.index == disk.index })
        #expect(try await dirtyRanges(thirdDisk.uri) == [2 * Self.megabyte..<3 * Self.megabyte, 10 * Self.megabyte..<11 * Self.megabyte,
                                                         20 * Self.megabyte..<21 * Self.megabyte])
        #expect(await daemon.cli(["vm", "backup", "ex", "--export-stop"]).exitCode == 0)

        // An Off VM (its change tracking saved at the stop): its bitmap counts from export 3 and is
        // empty; it is served by a storage daemon, a start is refused meanwhile, and it ends by itself.
        #expect(await daemon.cli(["vm", "stop", "ex"]).exitCode == 0)
        let off = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export", "--export-timeout", "20"])
        #expect(off.changedSince == third.token && off.bitmapContext != nil, "\(off)")
        let offDisk = try #require(off.disks.first { $0.index == disk.index })
        #expect(try await dirtyRanges(offDisk.uri).isEmpty, "nothing changed since export 3")
        #expect(try await exportedSHA(offDisk.uri, daemon) == atThird, "the Off VM's export reads as the guest left the disk")
        let start = await daemon.cli(["vm", "start", "ex"])
        #expect(start.exitCode != 0 && start.error.contains("exporting backup"), "\(start.error)")
        // The event is recorded once the ending has closed everything; the status is gone before that.
        let recentEvents = { await daemon.cli(["events", "--vm", "ex", "--limit", "50"]).output }
        try await eventually("the Off VM's export ended at its timeout and said so", timeout: .seconds(60), details: recentEvents) {
            await recentEvents().contains("ended as failed (its timeout passed)")
        }
        #expect(await daemon.cli(["vm", "backup", "ex", "--export-status"]).exitCode != 0, "the ended export is no longer shown")
        #expect(await daemon.cli(["vm", "start", "ex"]).exitCode == 0, "the VM starts once the export ended")
        try await daemon.waitForIntegration("ex")
        // The timed-out export gave nothing away: the next one still counts from export 3.
        let shown = await daemon.cli(["vm", "backup", "ex", "--export"])
        #expect(shown.exitCode == 0 && shown.output.contains("nbdinfo --map=qemu:dirty-bitmap:viridian-changes 'nbds://viridian@127.0.0.1:")
                && shown.output.contains("--export-stop"), "how to connect and how to end it: \(shown.output)\(shown.error)")
        let last = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export-status"])
        #expect(last.state == .serving && last.changedSince == third.token, "\(last)")
        // viridiand stopping ends an export as failed, keeping its changes; viridiand killed
        // leaves a worker whose export is removed on re-attach, and the next export is whole.
        await daemon.stop()
        try await daemon.start()
        let afterStop = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export"])
        #expect(afterStop.changedSince == third.token, "a stopped viridiand gave the export's changes back: \(afterStop)")
        await daemon.kill()
        try await daemon.start()
        let afterKill = try await daemon.json(BackupExportInfo.self, ["vm", "backup", "ex", "--export"])
        #expect(afterKill.bitmapContext == nil && afterKill.fullBecause?.contains("did not end with --export-stop") == true, "\(afterKill)")
        let afterKillDisk = try #require(afterKill.disks.first { $0.index == disk.index })
        #expect(try await exportedSHA(afterKillDisk.uri, daemon) == atThird, "the re-attached worker serves a new export")
        #expect(await daemon.cli(["vm", "backup", "ex", "--export-stop"]).exitCode == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.stateDirectory)/exports/\(try await daemon.client.vm("ex").id.prefix(8))"),
                "an ended export leaves no files")

        let bad = await daemon.cli(["vm", "backup", "ex", "--export", "--listen", "nowhere:99999"])
        #expect(bad.exitCode != 0 && bad.error.contains("not an address"), "\(bad.error)")
        let none = await daemon.cli(["vm", "backup", "ex", "--export-stop"])
        #expect(none.exitCode != 0 && none.error.contains("has no NBD export"), "\(none.error)")
    }

    /// Writes `megabytes` MiB of new bytes at `offset` MiB of the VHDX (synced); returns the SHA-256 of the whole device.
    private func write(_ daemon: TestDaemon, megabytes: Int, at offset: Int) async throws -> String {
        let result = await daemon.exec("ex", ["sh", "-c", "\(Self.device); dd if=/dev/urandom of=$disk bs=1M count=\(megabytes) seek=\(offset) oflag=direct conv=fsync 2>/dev/null && "
                                                 + "echo 3 > /proc/sys/vm/drop_caches && sha256sum $disk"])
        try #require(result.exitCode == 0 && result.output.count >= 64, "writing the VHDX failed: \(result.error)")
        return String(result.output.prefix(64))
    }

    /// The SHA-256 of an export's bytes, copied by `nbdcopy` into a file beside the state directory.
    private func exportedSHA(_ uri: String, _ daemon: TestDaemon) async throws -> String {
        let file = "\(daemon.stateDirectory)/exported.raw"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let copy = await TestDaemon.run("/usr/bin/nbdcopy", [uri, file])
        try #require(copy.exitCode == 0, "nbdcopy failed: \(copy.error)")
        let sum = await TestDaemon.run("/usr/bin/sha256sum", [file])
        return String(sum.output.prefix(64))
    }

    /// The dirty extents `nbdinfo --map` lists for the export's changed-block bitmap, merged where they touch.
    private func dirtyRanges(_ uri: String) async throws -> [Range<Int>] {
        let map = await TestDaemon.run("/usr/bin/nbdinfo", ["--map=qemu:dirty-bitmap:viridian-changes", "--json", uri])
        try #require(map.exitCode == 0, "nbdinfo --map failed: \(map.error)")
        struct Extent: Decodable { var offset: Int; var length: Int; var type: Int }
        var ranges: [Range<Int>] = []
        for extent in try JSONDecoder().decode([Extent].self, from: Data(map.output.utf8)) where extent.type & 1 == 1 {
            if let last = ranges.last, last.upperBound == extent.offset {
                ranges[ranges.count - 1] = last.lowerBound..<(extent.offset + extent.length)
            } else {
                ranges.append(extent.offset..<(extent.offset + extent.length))
            }
        }
        return ranges
    }
}
