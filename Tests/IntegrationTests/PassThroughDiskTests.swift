import APIClient
import APITypes
import Foundation
import Testing

/// Pass-through disks (Hyper-V's physical hard disks) on loop devices: the guest reads what the host
/// wrote on the device and the host reads what the guest wrote; a mounted device, a device another VM
/// has, a format other than raw and a file are refused; checkpoints, backups and moves are refused;
/// the device comes off and back on a running VM's SCSI controller.
@Suite("Pass-through disks", .enabled(if: HostSupport.canBoot && LoopDevices.available, Comment(rawValue: LoopDevices.missing)))
struct PassThroughDiskTests {
    /// The guest's device of 40 MiB (81920 sectors): the loop device.
    private static let findDevice = "for b in /sys/block/[sv]d*; do [ -e $b/size ] && [ $(cat $b/size) = 81920 ] && echo ${b##*/}; done"
    private static let hostMarker = "viridian-host-wrote"
    private static let guestMarker = "viridian-guest-wrote"

    @Test("a loop device given to a VM: data both ways, refusals with reasons, off and back on a running VM", .guests(1))
    func passThrough() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("pt")
            try await daemon.createTestVM("pt2")
            let backing = "\(daemon.stateDirectory)/pt-backing.img"
            let spare = "\(daemon.stateDirectory)/pt-spare.img"
            var bytes = Data(count: 40 << 20)
            bytes.replaceSubrange(1 << 20 ..< (1 << 20) + Self.hostMarker.utf8.count, with: Data(Self.hostMarker.utf8))
            try bytes.write(to: URL(fileURLWithPath: backing))
            try Data(count: 32 << 20).write(to: URL(fileURLWithPath: spare))
            try await LoopDevices.with([backing, spare]) { devices in
                try await exercise(daemon, device: devices[0], spare: devices[1], backing: backing)
            }
        }
    }

    private func exercise(_ daemon: TestDaemon, device: String, spare: String, backing: String) async throws {
        let file = await daemon.cli(["vm", "disk", "add", "pt", backing, "--pass-through"])
        #expect(file.exitCode != 0 && file.error.contains("is not a block device"), "\(file.error)")
        let undeclared = await daemon.cli(["vm", "disk", "add", "pt", device])
        #expect(undeclared.exitCode != 0 && undeclared.error.contains("--pass-through"), "a device without --pass-through: \(undeclared.error)")
        let qcow2 = await daemon.cli(["vm", "disk", "add", "pt", device, "--pass-through", "--format", "qcow2"])
        #expect(qcow2.exitCode != 0 && qcow2.error.contains("always raw"), "\(qcow2.error)")

        // A device the host has mounted is refused; one mounted after it was attached stops the VM from starting.
        #expect(await TestDaemon.run("/sbin/mkfs.ext4", ["-q", "-F", spare]).exitCode == 0)
        #expect(await daemon.cli(["vm", "disk", "add", "pt2", spare, "--pass-through"]).exitCode == 0)
        let mountPoint = "\(daemon.stateDirectory)/pt-mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(await TestDaemon.run("/bin/mount", [spare, mountPoint]).exitCode == 0)
        let mounted = await daemon.cli(["vm", "disk", "add", "pt", spare, "--pass-through"])
        let blocked = await daemon.cli(["vm", "start", "pt2"])
        #expect(await TestDaemon.run("/bin/umount", [mountPoint]).exitCode == 0)
        #expect(mounted.exitCode != 0 && mounted.error.contains("mounted on the host at \(mountPoint)"), "\(mounted.error)")
        #expect(blocked.exitCode != 0 && blocked.error.contains("mounted on the host"), "\(blocked.error)")
        #expect(try await daemon.client.vm("pt2").state == .off)

        let added = try await daemon.json(VMInfo.self, ["vm", "disk", "add", "pt", device, "--pass-through", "--controller-type", "scsi"])
        #expect(added.drives.contains { $0.path == device && $0.passThrough && $0.controllerType == .scsi }, "\(added.drives)")
        #expect(await daemon.cli(["vm", "show", "pt"]).output.contains("\(device) (pass-through)"))
        let twice = await daemon.cli(["vm", "disk", "add", "pt2", device, "--pass-through"])
        #expect(twice.exitCode != 0 && twice.error.contains("is the pass-through disk \(device) of VM 'pt'"), "\(twice.error)")
        let checkpoint = await daemon.cli(["vm", "checkpoint", "pt"])
        #expect(checkpoint.exitCode != 0 && checkpoint.error.contains("pass-through disk"), "\(checkpoint.error)")
        let backup = await daemon.cli(["vm", "backup", "pt", "--to", "\(daemon.stateDirectory)/pt-repository"])
        #expect(backup.exitCode != 0 && backup.error.contains("pass-through disk"), "\(backup.error)")
        let destination = "\(daemon.stateDirectory)/pt-moved"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let storage = await daemon.cli(["vm", "move-storage", "pt", "--destination-path", destination])
        #expect(storage.exitCode != 0 && storage.error.contains("pass-through disk"), "\(storage.error)")

        #expect(await daemon.cli(["vm", "start", "pt"]).exitCode == 0)
        try await daemon.waitForIntegration("pt")
        var disk = try await guestDevice(daemon)
        let read = await daemon.exec("pt", ["sh", "-c", "dd if=/dev/\(disk) bs=512 skip=2048 count=1 2>/dev/null | head -c \(Self.hostMarker.count)"])
        #expect(read.output == Self.hostMarker, "the guest reads what the host wrote on the device: \(read.output)\(read.error)")
        let write = await daemon.exec("pt", ["sh", "-c", "printf \(Self.guestMarker) | dd of=/dev/\(disk) bs=512 seek=4096 conv=notrunc 2>/dev/null && sync"])
        #expect(write.exitCode == 0, "\(write.error)")
        #expect(try Self.read(device, at: 2 << 20, count: Self.guestMarker.utf8.count) == Self.guestMarker,
                "the host reads what the guest wrote on the device")

        // Off a running VM's SCSI controller and back on: the guest sees it go and come back with its data.
        #expect(await daemon.cli(["vm", "disk", "remove", "pt", device]).exitCode == 0)
        try await eventually("the guest sees the pass-through disk go", timeout: .seconds(30), details: {
            await daemon.exec("pt", ["sh", "-c", Self.findDevice]).output
        }) {
            await daemon.exec("pt", ["sh", "-c", Self.findDevice]).output.isEmpty
        }
        let back = await daemon.cli(["vm", "disk", "add", "pt", device, "--pass-through"])
        #expect(back.exitCode == 0, "\(back.error)")
        disk = try await guestDevice(daemon)
        let again = await daemon.exec("pt", ["sh", "-c", "dd if=/dev/\(disk) bs=512 skip=4096 count=1 2>/dev/null | head -c \(Self.guestMarker.count)"])
        #expect(again.output == Self.guestMarker, "\(again.output)\(again.error)")
        #expect(await daemon.cli(["vm", "stop", "pt", "--turn-off"]).exitCode == 0)
        #expect(await daemon.cli(["vm", "remove", "pt", "--delete-attached-disks"]).exitCode == 0)
        #expect(FileManager.default.fileExists(atPath: device), "removing the VM never deletes its host device")
    }

    private func guestDevice(_ daemon: TestDaemon) async throws -> String {
        var name = ""
        try await eventually("the guest sees the 40 MiB pass-through disk", timeout: .seconds(30), details: {
            await daemon.exec("pt", ["sh", "-c", "ls /sys/block"]).output
        }) {
            name = await daemon.exec("pt", ["sh", "-c", Self.findDevice]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            return !name.isEmpty
        }
        return name
    }

    private static func read(_ path: String, at offset: UInt64, count: Int) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        return String(decoding: try handle.read(upToCount: count) ?? Data(), as: UTF8.self)
    }
}

/// Loop devices over files (`losetup`), detached whatever the test did.
enum LoopDevices {
    static let available = getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/loop-control")
        && FileManager.default.isExecutableFile(atPath: "/sbin/losetup")
    static let missing = HostSupport.missing + "; and root with loop devices (/dev/loop-control, util-linux's losetup)"

    static func with(_ files: [String], _ body: ([String]) async throws -> Void) async throws {
        var devices: [String] = []
        do {
            for file in files {
                let attached = await TestDaemon.run("/sbin/losetup", ["--find", "--show", file])
                try #require(attached.exitCode == 0, "losetup \(file): \(attached.error)")
                devices.append(attached.output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try await body(devices)
        } catch {
            await detach(devices)
            throw error
        }
        await detach(devices)
    }

    private static func detach(_ devices: [String]) async {
        for device in devices {
            let detached = await TestDaemon.run("/sbin/losetup", ["--detach", device])
            #expect(detached.exitCode == 0, "losetup --detach \(device): \(detached.error)")
        }
    }
}
