import APITypes
@testable import Engine
import Foundation
@testable import GuestImage
import Testing

@Suite("QEMU command line")
struct QEMUCommandLineTests {
    let paths = WorkerPaths(stateDirectory: "/var/lib/viridian", vmID: "id-1")

    func commandLine(_ configuration: VMConfiguration, firmware: Firmware? = nil) throws -> [String] {
        var chains: [Int: [DiskImage]] = [:]
        for (index, drive) in configuration.drives.enumerated() where drive.kind == .hardDisk {
            if let path = drive.path { chains[index] = [DiskImage(path: path, format: VHDFormat.from(path: path) ?? .raw)] }
        }
        return try QEMUCommandLine(name: "vm,1", id: "id-1", configuration: configuration, accelerator: .tcg, paths: paths,
                                   firmware: firmware, incoming: false, diskChains: chains).arguments
    }

    @Test("disks get their recorded formats and parents explicitly; a disk without a record is refused")
    func recordedChains() throws {
        let configuration = VMConfiguration(
            generation: .two, processorCount: 1, memoryMiB: 512, secureBoot: false, kernelBoot: nil,
            drives: [DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 0, path: "/d/cloud.img"),
                     DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 1, path: "/d/data.qcow2")],
            networkAdapters: [], bootOrder: [.hardDisk])
        let chains: [Int: [DiskImage]] = [
            0: [DiskImage(path: "/d/cloud.img", format: .qcow2)],
            1: [DiskImage(path: "/d/data.qcow2", format: .qcow2, parentPath: "/base.vhdx"), DiskImage(path: "/base.vhdx", format: .vhdx)],
        ]
        let joined = try QEMUCommandLine(name: "v", id: "i", configuration: configuration, accelerator: .tcg, paths: paths,
                                         firmware: nil, incoming: false, diskChains: chains).arguments.joined(separator: " ")
        #expect(joined.contains("driver=qcow2,file=file0,node-name=drive0,backing= "), "a qcow2 named .img is qcow2, with no parent")
        #expect(joined.contains("driver=file,filename=/base.vhdx,node-name=file1p1,read-only=on"))
        #expect(joined.contains("driver=vhdx,file=file1p1,node-name=drive1p1,read-only=on"))
        #expect(joined.contains("driver=qcow2,file=file1,node-name=drive1,backing=drive1p1"))
        #expect(throws: ViridianError.self) {
            try QEMUCommandLine(name: "v", id: "i", configuration: configuration, accelerator: .tcg, paths: paths,
                                firmware: nil, incoming: false, diskChains: [0: chains[0]!])
        }
    }

    @Test("a pass-through disk opens its host device raw, with no recorded chain; a stored drive without the field is a disk file")
    func passThrough() throws {
        let configuration = VMConfiguration(
            generation: .two, processorCount: 1, memoryMiB: 512, secureBoot: false, kernelBoot: nil,
            drives: [DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 0, path: "/d/root.qcow2"),
                     DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 1, path: "/dev/sdb", passThrough: true)],
            networkAdapters: [], bootOrder: [.hardDisk])
        let joined = try QEMUCommandLine(name: "v", id: "i", configuration: configuration, accelerator: .tcg, paths: paths, firmware: nil,
                                         incoming: false, diskChains: [0: [DiskImage(path: "/d/root.qcow2", format: .qcow2)]])
            .arguments.joined(separator: " ")
        #expect(joined.contains("driver=host_device,filename=/dev/sdb,node-name=file1 -blockdev driver=raw,file=file1,node-name=drive1"))
        #expect(joined.contains("scsi-hd,drive=drive1,bus=scsi0.0,channel=0,scsi-id=1,lun=0,id=disk1"))
        #expect(throws: ViridianError.self, "a pass-through disk is refused for a checkpoint") {
            try configuration.requireNoPassThrough(vm: "v", "a checkpoint")
        }
        let stored = #"{"kind":"HardDisk","controllerType":"SCSI","controllerNumber":0,"location":0,"path":"/d/a.qcow2"}"#
        #expect(try JSONDecoder().decode(DriveAttachment.self, from: Data(stored.utf8)).passThrough == false)
    }

    @Test("network boot: Generation 1 from its first legacy adapter only, Generation 2 from its first adapter")
    func networkBootAdapter() throws {
        let adapters = [NetworkAdapter(kind: .synthetic, macAddress: "52:54:00:00:00:01"), NetworkAdapter(kind: .legacy, macAddress: "52:54:00:00:00:02")]
        let one = try commandLine(VMConfiguration(generation: .one, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                                  drives: [], networkAdapters: adapters, bootOrder: [.network, .hardDisk]))
        #expect(one.contains { $0.hasPrefix("e1000,") && $0.hasSuffix(",bootindex=1") }, "the legacy adapter boots: \(one)")
        #expect(!one.contains { $0.hasPrefix("virtio-net-pci,") && $0.contains("bootindex") }, "a Generation 1 synthetic adapter does not boot")
        let two = try commandLine(VMConfiguration(generation: .two, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                                  drives: [], networkAdapters: [adapters[0]], bootOrder: [.hardDisk, .network]))
        #expect(two.contains { $0.hasPrefix("virtio-net-pci,") && $0.hasSuffix(",bootindex=2") }, "\(two)")
    }

    @Test("a virtual TPM is a CRB device on the VM's swtpm socket, for Generation 2 only; a stored VM without the field has none")
    func virtualTPM() throws {
        var configuration = VMConfiguration(generation: .two, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                            drives: [], networkAdapters: [], bootOrder: [.hardDisk], tpm: true)
        let joined = try commandLine(configuration).joined(separator: " ")
        #expect(joined.contains("-chardev socket,id=chrtpm,path=\(paths.tpmSocket) -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0"),
                "\(joined)")
        configuration.tpm = false
        #expect(!(try commandLine(configuration).joined(separator: " ").contains("tpm")))
        configuration.generation = .one
        configuration.tpm = true
        #expect(throws: ViridianError.self, "Generation 1 has no TPM") {
            try configuration.validate(host: HostCapacity(logicalProcessors: 2, memoryMiB: 4096))
        }
        var stored = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(configuration)) as? [String: Any] ?? [:]
        stored["tpm"] = nil
        let decoded = try JSONDecoder().decode(VMConfiguration.self, from: try JSONSerialization.data(withJSONObject: stored))
        #expect(decoded.tpm == false)
    }

    @Test("a video adapter is VGA with QEMU's VNC server on the runtime folder's socket (never a port); a shielded VM's only when allowed")
    func video() throws {
        var configuration = VMConfiguration(generation: .one, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                            drives: [], networkAdapters: [], bootOrder: [.hardDisk], video: true)
        let joined = try commandLine(configuration).joined(separator: " ")
        #expect(joined.contains("-device VGA,id=video0 -vnc unix:\(paths.vncSocket)") && joined.contains("-display none"), "\(joined)")
        configuration.shielded = true
        #expect(!(try commandLine(configuration).joined(separator: " ").contains("-vnc")), "a shielded VM's screen without console access")
        configuration.allowConsole = true
        #expect(try commandLine(configuration).joined(separator: " ").contains("-vnc unix:"))
        configuration.video = false
        #expect(!(try commandLine(configuration).joined(separator: " ").contains("VGA")))
        var stored = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(configuration)) as? [String: Any] ?? [:]
        stored["video"] = nil
        #expect(try JSONDecoder().decode(VMConfiguration.self, from: try JSONSerialization.data(withJSONObject: stored)).video == false,
                "a VM stored before video adapters keeps its hardware")
    }

    @Test("a shielded VM: its key as a secret object read from the file, LUKS on every qcow2 node, no console log, no core dump")
    func shielded() throws {
        let configuration = VMConfiguration(
            generation: .two, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
            drives: [DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 0, path: "/d/root-shielded.qcow2")],
            networkAdapters: [], bootOrder: [.hardDisk], tpm: true, shielded: true)
        let joined = try QEMUCommandLine(name: "v", id: "id-1", configuration: configuration, accelerator: .tcg, paths: paths, firmware: nil,
                                         incoming: false, diskChains: [0: [DiskImage(path: "/d/root-shielded.qcow2", format: .qcow2)]],
                                         shieldingKeyFile: paths.shieldingKey).arguments.joined(separator: " ")
        #expect(joined.contains("-object secret,id=shieldkey,file=/var/lib/viridian/keys/id-1.key,format=raw"))
        #expect(joined.contains("driver=qcow2,file=file0,node-name=drive0,backing=,encrypt.format=luks,encrypt.key-secret=shieldkey"))
        #expect(!joined.contains("logfile=") && joined.contains("dump-guest-core=off") && joined.contains("-overcommit mem-lock=on"))
        #expect(joined.contains("tpm-crb"))
        #expect(throws: ViridianError.self, "a shielded VM keeps its TPM") {
            var withoutTPM = configuration
            withoutTPM.tpm = false
            try withoutTPM.validate(host: HostCapacity(logicalProcessors: 2, memoryMiB: 4096))
        }
    }

    @Test("a key is 64 lower-case hex digits, written once, mode 0600 in a 0700 store")
    func shieldingKey() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let keyPaths = WorkerPaths(stateDirectory: state, vmID: "vm-1")
        // A store folder someone made open is closed again.
        try FileManager.default.createDirectory(atPath: keyPaths.keyStoreDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        #expect(throws: ViridianError.self) { try ShieldingKey.install("not a key", keyPaths) }
        try ShieldingKey.create(keyPaths)
        let key = try ShieldingKey.read(keyPaths)
        #expect(key.count == 64 && key.allSatisfy(\.isHexDigit))
        #expect(throws: ViridianError.self, "a VM's key is never overwritten") { try ShieldingKey.create(keyPaths) }
        let mode = try FileManager.default.attributesOfItem(atPath: keyPaths.shieldingKey)[.posixPermissions] as? NSNumber
        let folderMode = try FileManager.default.attributesOfItem(atPath: keyPaths.keyStoreDirectory)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600 && folderMode?.intValue == 0o700)
        ShieldingKey.remove(keyPaths)
        #expect(throws: ViridianError.self) { try ShieldingKey.read(keyPaths) }
    }

    @Test("Generation 1: pc machine, IDE disk, e1000 legacy adapter, boot index after the kernel's")
    func generationOne() throws {
        let arguments = try commandLine(VMConfiguration(
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
    func generationTwo() throws {
        let arguments = try commandLine(VMConfiguration(
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

    @Test("a drive removed while the VM ran keeps the others' device names and its controller, with no device of its own")
    func vacatedDrive() throws {
        let arguments = try commandLine(VMConfiguration(
            generation: .two, processorCount: 1, memoryMiB: 512, secureBoot: false, kernelBoot: nil,
            drives: [DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 0, path: "/root.qcow2"),
                     DriveAttachment(kind: .vacated, controllerType: .scsi, controllerNumber: 1, location: 0, path: nil),
                     DriveAttachment(kind: .hardDisk, controllerType: .scsi, controllerNumber: 0, location: 2, path: "/data.qcow2")],
            networkAdapters: [], bootOrder: [.hardDisk]))
        let joined = arguments.joined(separator: " ")
        #expect(joined.contains("virtio-scsi-pci,id=scsi1"), "the vacated drive's controller stays, so a move's destination has the same devices")
        #expect(!joined.contains("id=disk1") && !joined.contains("node-name=drive1 "))
        #expect(joined.contains("scsi-hd,drive=drive2,bus=scsi0.0,channel=0,scsi-id=2,lun=0,id=disk2"))
        let info = VMConfiguration(generation: .two, processorCount: 1, memoryMiB: 512, secureBoot: false, kernelBoot: nil,
                                   drives: [DriveAttachment(kind: .vacated, controllerType: .scsi, controllerNumber: 0, location: 0, path: nil)],
                                   networkAdapters: [], bootOrder: [])
        #expect(info.occupiedLocations.isEmpty, "a vacated entry frees its location")
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

@Suite("Saved-state URIs")
struct SavedStateURITests {
    @Test("QEMU 8.2 and later open the file themselves; earlier ones and paths with commas go through a quoted cat")
    func uris() {
        let ten = "QEMU emulator version 10.0.2 (Debian)"
        let old = "QEMU emulator version 7.2.22 (Debian)"
        #expect(SavedStateURI.save(to: "/s/vm/saved-state", qemuVersion: ten) == "file:/s/vm/saved-state")
        #expect(SavedStateURI.restore(from: "/s/vm/saved-state", qemuVersion: ten) == "file:/s/vm/saved-state")
        #expect(SavedStateURI.save(to: "/a b/it's", qemuVersion: old) == "exec:cat > '/a b/it'\\''s'")
        #expect(SavedStateURI.restore(from: "/a,b", qemuVersion: ten) == "exec:cat '/a,b'")
    }

    @Test("a shielded VM's state streams through openssl with the key file, never in the clear")
    func encrypted() {
        let ten = "QEMU emulator version 10.0.2 (Debian)"
        #expect(SavedStateURI.save(to: "/s/saved", qemuVersion: ten, keyFile: "/k/id.key")
                == "exec:openssl enc -aes-256-ctr -pbkdf2 -pass 'file:/k/id.key' -out '/s/saved'")
        #expect(SavedStateURI.restore(from: "/s/saved", qemuVersion: ten, keyFile: "/k/id.key")
                == "exec:openssl enc -aes-256-ctr -pbkdf2 -pass 'file:/k/id.key' -d -in '/s/saved'")
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

@Suite("Machine types")
struct MachineTypeTests {
    static let help = """
        Supported machines are:
        microvm              microvm (i386)
        pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996)
        pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-10.0)
        pc-i440fx-10.0       Standard PC (i440FX + PIIX, 1996) (default)
        pc-i440fx-4.2        Standard PC (i440FX + PIIX, 1996) (deprecated)
        pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)
        q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-10.0)
        pc-q35-10.0          Standard PC (Q35 + ICH9, 2009)
        """

    @Test("-machine help gives the versioned types, the aliases and the deprecated ones")
    func parse() {
        let types = QEMUMachineTypes(machineHelp: Self.help)
        #expect(types.newest(for: .one) == "pc-i440fx-10.0" && types.newest(for: .two) == "pc-q35-10.0")
        #expect(types.names.contains("pc-i440fx-7.2") && types.names.contains("microvm") && !types.names.contains("Supported"))
        #expect(types.deprecated == ["pc-i440fx-4.2"])
        #expect(types.refusal("pc-q35-7.2", qemuVersion: "QEMU emulator version 10.0.2") == nil)
        let refusal = types.refusal("pc-q35-11.0", qemuVersion: "QEMU emulator version 10.0.2 (Debian)")
        #expect(refusal?.contains("not available in QEMU 10.0") == true && refusal?.contains("pc-q35-10.0") == true)
        #expect(QEMUMachineTypes.belongs("pc-q35-7.2", to: .two) && !QEMUMachineTypes.belongs("pc-q35-7.2", to: .one))
        #expect(QEMUMachineTypes(machineHelp: "").newest(for: .two) == "q35", "without aliases the alias itself")
    }

    @Test("a VM's recorded machine type is what the worker gets")
    func commandLine() throws {
        var configuration = VMConfiguration(generation: .two, processorCount: 1, memoryMiB: 512, secureBoot: true, kernelBoot: nil,
                                            drives: [], networkAdapters: [], bootOrder: [.hardDisk])
        let paths = WorkerPaths(stateDirectory: "/s", vmID: "i")
        func machine() throws -> String? {
            let arguments = try QEMUCommandLine(name: "v", id: "i", configuration: configuration, accelerator: .tcg, paths: paths,
                                                firmware: nil, incoming: false, diskChains: [:]).arguments
            return arguments.firstIndex(of: "-machine").map { arguments[$0 + 1] }
        }
        #expect(try machine() == "q35,smm=on")
        configuration.machineType = "pc-q35-7.2"
        #expect(try machine() == "pc-q35-7.2,smm=on")
    }

    @Test("the saved-state header names the machine type; anything else is refused")
    func header() throws {
        let name = Array("pc-q35-7.2".utf8)
        let good: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3, 7, 0, 0, 0, UInt8(name.count)] + name + [1, 2, 3]
        #expect(try SavedStateHeader.machineType(in: good) == "pc-q35-7.2")
        var badMagic = good
        badMagic[0] = 0
        #expect(throws: ViridianError.self) { try SavedStateHeader.machineType(in: badMagic) }
        var tooLong = good
        tooLong[12] = 200
        #expect(throws: ViridianError.self) { try SavedStateHeader.machineType(in: tooLong) }
        var odd = good
        odd[13] = 0x2F  // "/"
        #expect(throws: ViridianError.self) { try SavedStateHeader.machineType(in: odd) }
        #expect(throws: ViridianError.self) { try SavedStateHeader.machineType(in: []) }
    }
}
