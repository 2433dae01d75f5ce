import APIClient
import APITypes
import Foundation
import Testing

/// Growing a running VM's disk (Resize-VHD on a SCSI disk): the guest sees the new size without a
/// reboot and writes past the old end; an IDE disk, a shrink and VHDX are refused with the reason,
/// and the VM keeps running throughout.
@Suite("Online disk resize", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct OnlineResizeTests {
    /// The guest's 64 MiB data disk (131072 sectors), found by its size before the resize.
    private static let findData = "for b in /sys/block/[sv]d*; do [ $(cat $b/size) = 131072 ] && echo ${b##*/}; done"

    @Test("a running VM's SCSI disk grows live and the guest uses the new space; IDE, shrinking and VHDX are refused", .guests(1))
    func growLive() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("rs")
            let data = "\(daemon.stateDirectory)/data.qcow2"
            let vhdx = "\(daemon.stateDirectory)/data.vhdx"
            #expect(await daemon.cli(["vhd", "new", data, "--size", "64M"]).exitCode == 0)
            #expect(await daemon.cli(["vhd", "new", vhdx, "--size", "32M"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "rs", data, "--controller-type", "scsi"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "rs", vhdx, "--controller-type", "scsi", "--location", "1"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "rs"]).exitCode == 0)
            try await daemon.waitForIntegration("rs")
            let found = await daemon.exec("rs", ["sh", "-c", Self.findData])
            let device = found.output.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(!device.isEmpty && !device.contains("\n"), "the guest has one 64 MiB disk: \(found.output)\(found.error)")

            let grown = await daemon.cli(["vm", "disk", "resize", "rs", data, "--size", "96M", "--json"])
            #expect(grown.exitCode == 0, "\(grown.error)")
            #expect(try WireJSON.decoder().decode(VHDInfo.self, from: Data(grown.output.utf8)).sizeBytes == 96 << 20, "\(grown.output)")
            try await eventually("the guest sees its disk at 96 MiB without a reboot", timeout: .seconds(30), details: {
                await daemon.exec("rs", ["cat", "/sys/block/\(device)/size"]).output
            }) {
                await daemon.exec("rs", ["cat", "/sys/block/\(device)/size"]).output.trimmingCharacters(in: .whitespacesAndNewlines) == "196608"
            }
            // The new space holds data: a mark written past the old end reads back.
            let written = await daemon.exec("rs", ["sh", "-c", "echo grown | dd of=/dev/\(device) bs=1M seek=80 conv=sync,fsync 2>/dev/null && "
                                                       + "echo 3 > /proc/sys/vm/drop_caches && dd if=/dev/\(device) bs=1M skip=80 count=1 2>/dev/null | head -c 5"])
            #expect(written.exitCode == 0 && written.output == "grown", "\(written.output)\(written.error)")
            #expect(try await daemon.client.vm("rs").state == .running)

            let shrink = await daemon.cli(["vhd", "resize", data, "--size", "32M"])
            #expect(shrink.exitCode != 0 && shrink.error.contains("only growing"), "\(shrink.error)")
            let vhdxGrow = await daemon.cli(["vhd", "resize", vhdx, "--size", "64M"])
            #expect(vhdxGrow.exitCode != 0 && vhdxGrow.error.contains("VHDX"), "\(vhdxGrow.error)")
            let notAttached = await daemon.cli(["vm", "disk", "resize", "rs", "\(daemon.stateDirectory)/other.qcow2", "--size", "1G"])
            #expect(notAttached.exitCode != 0 && notAttached.error.contains("has no hard disk"), "\(notAttached.error)")
            // The test guest is Generation 1: its root disk is on IDE.
            let ide = try #require(try await daemon.client.vm("rs").drives.first { $0.kind == .hardDisk && $0.controllerType == .ide }?.path)
            let refused = await daemon.cli(["vhd", "resize", ide, "--size", "4G"])
            #expect(refused.exitCode != 0 && refused.error.contains("IDE controller"), "\(refused.error)")
            await daemon.expectHealthyKernel("rs")
            #expect(await daemon.cli(["vm", "stop", "rs", "--turn-off"]).exitCode == 0)
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", "-f", "qcow2", data])
            #expect(check.exitCode == 0, "\(check.output)\(check.error)")
        }
    }
}
