import APITypes
@testable import Engine
import Foundation
@testable import GuestImage
import Testing

@Suite("QEMU command line")
struct QEMUCommandLineTests {
    let paths = WorkerPaths(stateDirectory: "/var/lib/viridian", vmID: "id-1")

    func commandLine(_ configuration: VMConfiguration, firmware: Firmware? = nil) -> [String] {
        QEMUCommandLine(name: "vm,1", id: "id-1", configuration: configuration, accelerator: .tcg, paths: paths,
                        firmware: firmware, incoming: false).arguments
    }

    @Test("Generation 1: pc machine, IDE disk, e1000 legacy adapter, boot index after the kernel's")
    func generationOne() {
        let arguments = commandLine(VMConfiguration(
            generation: .one, processorCount: 2, memoryMiB: 512, secureBoot: false,
            kernelBoot: KernelBoot(kernel: "/k", initrd: "/i", append: "console=ttyS0"),
            drives: [DriveAttachment(kind: .hardDisk, controllerType: .ide, controllerNumber: 0, location: 1, path: "/d/root,1.vhdx"),
                     DriveAttachment(kind: .dvd, controllerType: .ide, controllerNumber: 1, location: 0, path: nil)],
            networkAdapters: [NetworkAdapter(kind: .legacy, macAddress: "52:54:00:00:00:01")],
            bootOrder: [.hardDisk, .dvd]))
        let joined = arguments.joined(separator: " ")
        #expect(joined.contains("-machine pc") && joined.contains("-accel tcg,thread=multi") && joined.contains("-smp 2"))
        #expect(joined.contains("driver=file,filename=/d/root,,1.vhdx,node-name=file0"), "commas in paths are doubled")
        #expect(joined.contains("driver=vhdx,file=file0,node-name=drive0"))
        #expect(joined.contains("ide-hd,drive=drive0,bus=ide.0,unit=1,bootindex=1,id=disk0"))
        #expect(joined.contains("ide-cd,bus=ide.1,unit=0,bootindex=2,id=disk1"), "an empty DVD drive has no medium")
        #expect(joined.contains("e1000,netdev=net0,mac=52:54:00:00:00:01"))
        #expect(joined.contains("-daemonize") && joined.contains("-kernel /k") && joined.contains("-append console=ttyS0"))
        #expect(!joined.contains("pflash"))
    }

    @Test("Generation 2: q35 with OVMF pflash, virtio-scsi, Secure Boot")
    func generationTwo() {
        let arguments = commandLine(VMConfiguration(
            generation: .two, processorCount: 1, memoryMiB: 1024, secureBoot: true, kernelBoot: nil,
            drives: [DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 1, location: 5, path: "/d.qcow2")],
            networkAdapters: [NetworkAdapter(kind: .synthetic, macAddress: "52:54:00:00:00:02")], bootOrder: [.hardDisk]),
            firmware: Firmware(code: "/code.fd", variablesTemplate: "/vars.fd"))
        let joined = arguments.joined(separator: " ")
        #expect(joined.contains("-machine q35,smm=on") && joined.contains("file=/code.fd") && joined.contains("file=\(paths.nvram)"))
        #expect(joined.contains("property=secure,value=on"))
        #expect(joined.contains("virtio-scsi-pci,id=scsi1") && joined.contains("scsi-hd,drive=drive0,bus=scsi1.0,channel=0,scsi-id=5"))
        #expect(joined.contains("virtio-net-pci"))
    }
}

@Suite("Accelerator probe")
struct AcceleratorProbeTests {
    @Test("a forced setting wins, and the nested kvm_pvm module means TCG")
    func decisions() async throws {
        let modules = FileManager.default.temporaryDirectory.appendingPathComponent("modules-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: "\(modules)/kvm_pvm", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: modules) }
        let forced = await AcceleratorProbe(qemu: "/bin/false").decide(forced: .kvm)
        #expect(forced.accelerator == .kvm && forced.reason.contains("forced"))
        let devNull = FileManager.default.isWritableFile(atPath: "/dev/null") ? "/dev/null" : "/nonexistent"
        let pvm = await AcceleratorProbe(qemu: "/bin/false", kvmDevice: devNull, sysModules: modules).decide(forced: nil)
        #expect(pvm.accelerator == .tcg && pvm.reason.contains("kvm_pvm"))
        let none = await AcceleratorProbe(qemu: "/bin/false", kvmDevice: "/nonexistent/kvm").decide(forced: nil)
        #expect(none.accelerator == .tcg && none.reason.contains("missing"))
    }

    @Test("the probe firmware prints its marker under QEMU (TCG here)",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"), "needs qemu-system-x86"))
    func markerFirmware() async {
        #expect(await AcceleratorProbe(qemu: "/usr/bin/qemu-system-x86_64").runsMarkerFirmware(accelerator: .tcg))
        #expect(AcceleratorProbe.markerFirmware.count == 65536)
    }
}

@Suite("Memory copy rule for moves")
struct MemoryCopyRuleTests {
    @Test("TCG on QEMU before 9.0 pauses the guest for the memory copy; KVM and QEMU 9.0 or later copy live")
    func pauseOnlyWhereWritesAreLost() {
        let debian = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
        #expect(QEMUVersionNumber(debian) == QEMUVersionNumber("QEMU emulator version 7.2.0"))
        #expect(QEMUVersionNumber(debian)?.major == 7 && QEMUVersionNumber(debian)?.minor == 2)
        #expect(QEMUVersionNumber("unknown") == nil && QEMUVersionNumber("QEMU emulator version 9") == nil)
        #expect(MemoryCopyRule.pauseReason(accelerator: .tcg, qemuVersion: debian)?.contains("QEMU 7.2 under TCG") == true)
        #expect(MemoryCopyRule.pauseReason(accelerator: .kvm, qemuVersion: debian) == nil)
        #expect(MemoryCopyRule.pauseReason(accelerator: .tcg, qemuVersion: "QEMU emulator version 9.0.0") == nil)
        #expect(MemoryCopyRule.pauseReason(accelerator: .tcg, qemuVersion: "QEMU emulator version 10.1.2 (Debian)") == nil)
    }
}

@Suite("Test guest modules")
struct ModuleResolverTests {
    @Test("dependencies load first, each module once")
    func order() throws {
        let resolver = ModuleResolver(modulesDep: """
            kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
            kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/virtio/virtio_ring.ko:
            kernel/drivers/net/net-failover.ko:
            """)
        #expect(try resolver.loadOrder(["virtio_blk", "virtio", "net_failover"]) == [
            "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
            "kernel/drivers/block/virtio_blk.ko", "kernel/drivers/net/net-failover.ko",
        ])
        #expect(throws: ViridianError.self) { try resolver.loadOrder(["no_such_module"]) }
    }
}
