import APITypes
import Foundation
import HostTools

/// Decides whether VMs run on KVM or on QEMU's TCG emulator.
///
/// KVM is chosen only where it really runs a guest: `/dev/kvm` must open read-write, the module
/// must not be the nested page-table-based `kvm_pvm` (under which a standard kernel crawls through
/// instruction emulation for minutes), and a tiny firmware must print a marker and exit within a
/// few seconds under `-accel kvm`.
public struct AcceleratorProbe: Sendable {
    /// The choice and why it was made.
    public struct Decision: Sendable {
        public var accelerator: Accelerator
        public var reason: String
    }

    let qemu: String
    let kvmDevice: String
    let sysModules: String

    public init(qemu: String, kvmDevice: String = "/dev/kvm", sysModules: String = "/sys/module") {
        self.qemu = qemu
        self.kvmDevice = kvmDevice
        self.sysModules = sysModules
    }

    /// Picks the accelerator; `forced` (a setting) wins over the probe.
    public func decide(forced: Accelerator?) async -> Decision {
        if let forced {
            return Decision(accelerator: forced, reason: "forced by the --accelerator setting")
        }
        guard access(kvmDevice, R_OK | W_OK) == 0 else {
            return Decision(accelerator: .tcg, reason: "\(kvmDevice) is missing or not accessible; using TCG emulation")
        }
        if FileManager.default.fileExists(atPath: "\(sysModules)/kvm_pvm") {
            return Decision(accelerator: .tcg,
                            reason: "KVM here is the nested PVM variant (kvm_pvm), which cannot run standard guests at speed; using TCG")
        }
        if await runsMarkerFirmware(accelerator: .kvm) {
            return Decision(accelerator: .kvm, reason: "KVM ran the probe guest")
        }
        return Decision(accelerator: .tcg, reason: "KVM failed to run the probe guest within 3 s; using TCG")
    }

    /// Boots a 64 KiB firmware that writes `K` to the serial port and exits through `isa-debug-exit`.
    /// True when the marker appeared and QEMU exited within three seconds.
    public func runsMarkerFirmware(accelerator: Accelerator) async -> Bool {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-probe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let rom = directory.appendingPathComponent("probe.rom").path
            let serial = directory.appendingPathComponent("serial.txt").path
            try Data(Self.markerFirmware).write(to: URL(fileURLWithPath: rom))
            let accel = accelerator == .kvm ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg"]
            _ = try await HostCommand.run("timeout", ["3", qemu] + accel + [
                "-M", "pc", "-m", "16", "-nodefaults", "-no-user-config", "-display", "none",
                "-bios", rom, "-serial", "file:\(serial)", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            ])
            let output = (try? String(contentsOfFile: serial, encoding: .utf8)) ?? ""
            return output.contains("K")
        } catch {
            return false
        }
    }

    /// Real-mode code at the reset vector (the last 16 bytes of the ROM):
    /// `mov dx,0x3f8; mov al,'K'; out dx,al; mov al,0; out 0xf4,al; hlt; jmp $-1`.
    static let markerFirmware: [UInt8] = {
        var rom = [UInt8](repeating: 0xF4, count: 65536)
        let code: [UInt8] = [0xBA, 0xF8, 0x03, 0xB0, 0x4B, 0xEE, 0xB0, 0x00, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD]
        rom.replaceSubrange(0xFFF0..<(0xFFF0 + code.count), with: code)
        return rom
    }()
}
