import APIClient
import APITypes
import Foundation
import Testing

/// PXE boot (Hyper-V's network boot): a VM with no disk on an internal switch boots the test guest
/// over the network from a DHCP/TFTP server (Debian's dnsmasq) the test runs on that switch, through
/// the adapter's iPXE option ROM; with no server answering, the VM falls through to its next boot device.
@Suite("Network boot", .enabled(if: HostSupport.canBoot && PXEServer.available, Comment(rawValue: PXEServer.missing)))
struct NetworkBootTests {
    /// A master boot record that prints this on COM1 and halts: the next boot device after the network.
    private static let diskMarker = "VIRIDIAN-DISK-BOOTED"

    @Test("the test guest over PXE from Generation 1's legacy and Generation 2's synthetic adapter; the disk when no server answers",
          .guests(1))
    func networkBoot() async throws {
        try await TestDaemon.with { daemon in
            do {
                try await bootOverNetwork(daemon)
            } catch {
                await removeSwitch(daemon)
                throw error
            }
            await removeSwitch(daemon)
        }
    }

    /// The switch's bridge carries the host address 10.77.0.254: it goes with the test, so that no later
    /// run finds a second bridge with the same address (which would take the server's replies).
    private func removeSwitch(_ daemon: TestDaemon) async {
        for vm in ["pxe", "pxe2"] {
            _ = await daemon.cli(["vm", "stop", vm, "--turn-off"])
            _ = await daemon.cli(["vm", "remove", vm])
        }
        let removed = await daemon.cli(["switch", "remove", "pxenet"])
        #expect(removed.exitCode == 0, "the test's switch is removed: \(removed.error)")
    }

    private func bootOverNetwork(_ daemon: TestDaemon) async throws {
        try await daemon.createTestVM("seed")
        let boot = try #require(try await daemon.client.vm("seed").kernelBoot, "the test guest boots a kernel")
        #expect(await daemon.cli(["switch", "new", "pxenet", "--type", "internal", "--host-address", "10.77.0.254/24"]).exitCode == 0)
        let bridge = try #require(try await daemon.json([VirtualSwitchInfo].self, ["switch", "list"]).first { $0.name == "pxenet" }?.bridge)
        let create = await daemon.cli(["vm", "create", "pxe", "--generation", "1", "--memory", "256M", "--network", "legacy", "--switch", "pxenet"])
        #expect(create.exitCode == 0, "\(create.error)")
        let order = await daemon.cli(["vm", "set", "pxe", "--boot-order", "network,disk"])
        #expect(order.exitCode == 0, "\(order.error)")
        #expect(try await daemon.client.vm("pxe").bootOrder == [.network, .hardDisk])

        let server = try PXEServer(root: "\(daemon.stateDirectory)/tftp", interface: bridge, address: "10.77.0.254", boot: boot)
        try await bootsTestGuest(daemon, "pxe", from: server)

        // Generation 2 from its synthetic adapter: OVMF runs the adapter's iPXE EFI driver.
        let uefi = await daemon.cli(["vm", "create", "pxe2", "--generation", "2", "--memory", "512M", "--switch", "pxenet",
                                     "--secure-boot", "off"])
        #expect(uefi.exitCode == 0, "\(uefi.error)")
        #expect(await daemon.cli(["vm", "set", "pxe2", "--boot-order", "network,disk"]).exitCode == 0)
        try await bootsTestGuest(daemon, "pxe2", from: server)
        server.stop()
        #expect(server.log.components(separatedBy: "boot.ipxe to").count == 3, "each VM fetched its boot script once: \(server.log.suffix(800))")

        // No server: iPXE gives up and the BIOS boots the next device, a disk that says so.
        let disk = "\(daemon.stateDirectory)/mbr.img"
        var sectors = Data(count: 1 << 20)
        sectors.replaceSubrange(0 ..< Self.bootSector.count, with: Self.bootSector)
        try sectors.write(to: URL(fileURLWithPath: disk))
        #expect(await daemon.cli(["vm", "disk", "add", "pxe", disk, "--format", "raw"]).exitCode == 0)
        #expect(await daemon.cli(["vm", "start", "pxe"]).exitCode == 0)
        try await daemon.waitForConsole("pxe", contains: Self.diskMarker, timeout: .seconds(480))
        #expect(await daemon.cli(["vm", "stop", "pxe", "--turn-off"]).exitCode == 0)
    }

    /// Starts `vm`, waits for the test guest's ready marker on its console (the server's log tells
    /// what happened when it does not come), and turns the VM off.
    private func bootsTestGuest(_ daemon: TestDaemon, _ vm: String, from server: PXEServer) async throws {
        #expect(await daemon.cli(["vm", "start", vm]).exitCode == 0)
        do {
            try await daemon.waitForConsole(vm, contains: "VIRIDIAN-GUEST-READY", timeout: .seconds(480))
        } catch {
            Issue.record("the PXE server's log: \(server.log.suffix(1500))")
            throw error
        }
        #expect(await daemon.cli(["vm", "stop", vm, "--turn-off"]).exitCode == 0)
    }

    /// 16-bit code at 0x7c00: `xor ax,ax; mov ds,ax; mov dx,0x3f8; mov si,msg; next: lodsb; test al,al;
    /// jz halt; out dx,al; jmp next; halt: cli; hlt; jmp $-1`, the message, and the boot signature.
    private static let bootSector: Data = {
        var code: [UInt8] = [0x31, 0xC0, 0x8E, 0xD8, 0xBA, 0xF8, 0x03, 0xBE, 0x16, 0x7C,
                             0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xFA, 0xF4, 0xEB, 0xFD]
        code += Array("\r\n\(diskMarker)\r\n".utf8) + [0]
        code += [UInt8](repeating: 0, count: 510 - code.count) + [0x55, 0xAA]
        return Data(code)
    }()
}

/// dnsmasq as the DHCP and TFTP server of one switch, serving an iPXE script that boots the test
/// guest's kernel and initramfs; stopped (and its log kept) when the test is done with it.
final class PXEServer: @unchecked Sendable {
    static let binary = "/usr/sbin/dnsmasq"
    static let available = FileManager.default.isExecutableFile(atPath: binary)
    static let missing = HostSupport.missing + "; and Debian's dnsmasq-base (apt-get install dnsmasq-base)"

    private let process = Process()
    private let logPath: String

    init(root: String, interface: String, address: String, boot: KernelBoot) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (file, name) in [(boot.kernel, "vmlinuz"), (boot.initrd, "initrd.img")] {
            guard let file else { continue }
            try? FileManager.default.removeItem(atPath: "\(root)/\(name)")
            try FileManager.default.copyItem(atPath: file, toPath: "\(root)/\(name)")
            // dnsmasq serves only files every user may read.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(root)/\(name)")
        }
        let script = """
            #!ipxe
            kernel tftp://\(address)/vmlinuz initrd=initrd.img \(boot.append ?? "")
            initrd tftp://\(address)/initrd.img
            boot

            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: "\(root)/boot.ipxe"))
        logPath = "\(root)/dnsmasq.log"
        let prefix = address.split(separator: ".").dropLast().joined(separator: ".")
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--user=root", "--pid-file=",
                             "--interface=\(interface)", "--bind-interfaces", "--dhcp-range=\(prefix).100,\(prefix).150,2m",
                             "--dhcp-leasefile=\(root)/leases", "--enable-tftp", "--tftp-root=\(root)", "--dhcp-boot=boot.ipxe",
                             "--log-dhcp", "--log-facility=-"]
        let log = FileManager.default.createFile(atPath: logPath, contents: nil) ? try FileHandle(forWritingTo: URL(fileURLWithPath: logPath)) : nil
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// What dnsmasq logged: its DHCP offers and the files it sent over TFTP.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Kills dnsmasq: a child of the test runner inherits its blocked signals, SIGTERM among them.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
