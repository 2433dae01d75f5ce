import APIClient
import APITypes
import Foundation
import Testing

/// Disks and DVD media changed while the VM runs (Add-/Remove-VMHardDiskDrive on SCSI, Set-VMDvdDrive):
/// the guest sees a hot-added disk, makes and mounts a file system on it, sees it vanish when it is
/// removed, and the file is released; the same disk comes back at the freed position with its data;
/// a DVD medium changes live; IDE changes are refused with Hyper-V's reason.
@Suite("Hot-plugged drives", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct HotDriveTests {
    /// The guest's device of 48 MiB (98304 sectors): the hot-added disk.
    private static let findHot = "for b in /sys/block/[sv]d*; do [ -e $b/size ] && [ $(cat $b/size) = 98304 ] && echo ${b##*/}; done"

    @Test("a SCSI disk added to and removed from a running VM: the guest mounts it, sees it go, the file is free; DVD media change live; IDE refused",
          .guests(1))
    func hotDisks() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("hp")
            let anchor = "\(daemon.stateDirectory)/anchor.qcow2"
            let hot = "\(daemon.stateDirectory)/hot.qcow2"
            let medium = "\(daemon.stateDirectory)/medium.iso"
            #expect(await daemon.cli(["vhd", "new", anchor, "--size", "16M"]).exitCode == 0)
            #expect(await daemon.cli(["vhd", "new", hot, "--size", "48M"]).exitCode == 0)
            try Data(("viridian-dvd-medium" + String(repeating: "\n", count: 65536 - 19)).utf8).write(to: URL(fileURLWithPath: medium))
            // The SCSI controller comes with a disk added while the VM is Off (as in Hyper-V, none is added while it runs).
            #expect(await daemon.cli(["vm", "disk", "add", "hp", anchor, "--controller-type", "scsi"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "hp"]).exitCode == 0)
            try await daemon.waitForIntegration("hp")
            #expect(await daemon.exec("hp", ["sh", "-c", Self.findHot]).output.isEmpty, "no 48 MiB disk before the add")

            let added = try await daemon.json(VMInfo.self, ["vm", "disk", "add", "hp", hot])
            let drive = try #require(added.drives.first { $0.path == hot }, "\(added.drives)")
            #expect(drive.controllerType == .scsi && drive.controllerNumber == 0 && drive.location == 1, "the first free SCSI location: \(drive)")
            let device = try await hotDevice(daemon)
            let mounted = await daemon.exec("hp", ["sh", "-c", "mke2fs -q /dev/\(device) && mkdir -p /mnt/hot && mount -t ext4 /dev/\(device) /mnt/hot && "
                                                       + "echo viridian-hot-marker > /mnt/hot/mark && sync && umount /mnt/hot"])
            #expect(mounted.exitCode == 0, "a file system made and mounted on the new disk: \(mounted.output)\(mounted.error)")

            let other = "\(daemon.stateDirectory)/other.qcow2"
            #expect(await daemon.cli(["vhd", "new", other, "--size", "16M"]).exitCode == 0)
            let taken = await daemon.cli(["vm", "disk", "add", "hp", other, "--controller-type", "scsi", "--location", "0"])
            #expect(taken.exitCode != 0 && taken.error.contains("is taken"), "\(taken.error)")
            let noController = await daemon.cli(["vm", "disk", "add", "hp", other, "--controller-type", "scsi", "--controller-number", "2"])
            #expect(noController.exitCode != 0 && noController.error.contains("no SCSI controller 2"), "\(noController.error)")
            let ide = await daemon.cli(["vm", "disk", "add", "hp", anchor, "--controller-type", "ide", "--location", "1"])
            #expect(ide.exitCode != 0 && ide.error.contains("IDE has no hot-plug"), "\(ide.error)")
            let root = try #require(try await daemon.client.vm("hp").drives.first { $0.controllerType == .ide && $0.kind == .hardDisk }?.path)
            let ideRemove = await daemon.cli(["vm", "disk", "remove", "hp", root])
            #expect(ideRemove.exitCode != 0 && ideRemove.error.contains("IDE has no hot-plug"), "\(ideRemove.error)")
            let busy = await TestDaemon.run("/usr/bin/qemu-img", ["info", "-f", "qcow2", hot])
            #expect(busy.exitCode != 0, "QEMU holds the attached disk's lock")

            let removed = await daemon.cli(["vm", "disk", "remove", "hp", hot])
            #expect(removed.exitCode == 0, "\(removed.error)")
            try await eventually("the guest sees the disk go", timeout: .seconds(30), details: {
                await daemon.exec("hp", ["sh", "-c", Self.findHot]).output
            }) {
                await daemon.exec("hp", ["sh", "-c", Self.findHot]).output.isEmpty
            }
            #expect(try await daemon.client.vm("hp").drives.allSatisfy { $0.path != hot && $0.kind != .vacated })
            let free = await TestDaemon.run("/usr/bin/qemu-img", ["info", "-f", "qcow2", hot])
            #expect(free.exitCode == 0, "the removed disk's file is released: \(free.error)")
            let raw = "\(hot).raw"
            defer { try? FileManager.default.removeItem(atPath: raw) }
            #expect(await TestDaemon.run("/usr/bin/qemu-img", ["convert", "-f", "qcow2", "-O", "raw", hot, raw]).exitCode == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: raw)).range(of: Data("viridian-hot-marker".utf8)) != nil,
                    "what the guest wrote is in the file")

            // Back again, at the position it left: the guest mounts it and reads its mark.
            #expect(await daemon.cli(["vm", "disk", "add", "hp", hot]).exitCode == 0)
            let again = try await hotDevice(daemon)
            let read = await daemon.exec("hp", ["sh", "-c", "mount -t ext4 /dev/\(again) /mnt/hot && cat /mnt/hot/mark && umount /mnt/hot"])
            #expect(read.exitCode == 0 && read.output.contains("viridian-hot-marker"), "\(read.output)\(read.error)")

            // The IDE DVD drive's medium changes live; the drive itself stays (IDE).
            #expect(await daemon.cli(["vm", "dvd", "set", "hp", medium]).exitCode == 0)
            try await eventually("the guest reads the new DVD medium", timeout: .seconds(30)) {
                await daemon.exec("hp", ["sh", "-c", "dd if=/dev/sr0 bs=2048 count=1 2>/dev/null | head -c 19"]).output == "viridian-dvd-medium"
            }
            #expect(await daemon.cli(["vm", "dvd", "set", "hp", "--eject"]).exitCode == 0)
            try await eventually("the guest's DVD drive is empty", timeout: .seconds(30)) {
                await daemon.exec("hp", ["sh", "-c", "dd if=/dev/sr0 bs=2048 count=1 2>/dev/null | wc -c"]).output.trimmingWhitespace() == "0"
            }
            let dvdRemove = await daemon.cli(["vm", "dvd", "remove", "hp"])
            #expect(dvdRemove.exitCode != 0 && dvdRemove.error.contains("IDE has no hot-plug"), "\(dvdRemove.error)")
            await daemon.expectHealthyKernel("hp")

            // Off, the disk stays attached where it went, and the VM starts again with it.
            #expect(await daemon.cli(["vm", "stop", "hp", "--turn-off"]).exitCode == 0)
            let off = try await daemon.client.vm("hp")
            #expect(off.drives.contains { $0.path == hot && $0.controllerType == .scsi && $0.location == 1 }, "\(off.drives)")
            #expect(await daemon.cli(["vm", "start", "hp"]).exitCode == 0)
            try await daemon.waitForIntegration("hp")
            _ = try await hotDevice(daemon)
            #expect(await daemon.cli(["vm", "stop", "hp", "--turn-off"]).exitCode == 0)
        }
    }

    /// The guest's name for the 48 MiB disk, once it sees it.
    private func hotDevice(_ daemon: TestDaemon) async throws -> String {
        var device = ""
        try await eventually("the guest sees the 48 MiB disk", timeout: .seconds(60), details: {
            await daemon.exec("hp", ["sh", "-c", "ls /sys/block; " + Self.findHot]).output
        }) {
            device = await daemon.exec("hp", ["sh", "-c", Self.findHot]).output.trimmingWhitespace()
            return !device.isEmpty && !device.contains("\n")
        }
        return device
    }
}
