import APITypes
import Testing

@Suite("VM configuration rules (Hyper-V's limits)")
struct VMConfigurationValidationTests {
    let host = HostCapacity(logicalProcessors: 4, memoryMiB: 8192)

    func configuration(generation: Generation = .one, cpus: Int = 1, memory: Int = 512,
                       drives: [DriveAttachment] = [], nics: [NetworkAdapter] = []) -> VMConfiguration {
        VMConfiguration(generation: generation, processorCount: cpus, memoryMiB: memory, secureBoot: false,
                        kernelBoot: nil, drives: drives, networkAdapters: nics, bootOrder: [.hardDisk])
    }

    func disk(_ type: ControllerType, _ controller: Int, _ location: Int, _ path: String = "/d.vhdx") -> DriveAttachment {
        DriveAttachment(kind: .hardDisk, controllerType: type, controllerNumber: controller, location: location, path: path)
    }

    @Test("accepts valid names and refuses unsafe ones")
    func names() {
        for good in ["web1", "DB-server_02.prod", String(repeating: "a", count: 64)] {
            #expect(throws: Never.self) { try VMName.validate(good) }
        }
        for bad in ["", "-lead", ".hidden", "has space", "slash/y", "../escape", "ünïcode", String(repeating: "a", count: 65)] {
            #expect(throws: ViridianError.self) { try VMName.validate(bad) }
        }
    }

    @Test("processors and memory are bounded by Hyper-V and by the host")
    func processorsAndMemory() {
        #expect(throws: Never.self) { try configuration(cpus: 4, memory: 8192).validate(host: host) }
        for bad in [configuration(cpus: 0), configuration(cpus: 5), configuration(memory: 30),
                    configuration(memory: 513), configuration(memory: 8194)] {
            #expect(throws: ViridianError.self) { try bad.validate(host: host) }
        }
    }

    @Test("controller locations follow each generation's controllers")
    func locations() {
        #expect(throws: Never.self) { try configuration(drives: [disk(.ide, 0, 0), disk(.ide, 1, 1, "/e"), disk(.scsi, 3, 63, "/f")]).validate(host: host) }
        let refused: [VMConfiguration] = [
            configuration(generation: .two, drives: [disk(.ide, 0, 0)]),
            configuration(drives: [disk(.ide, 2, 0)]),
            configuration(drives: [disk(.ide, 0, 2)]),
            configuration(drives: [disk(.scsi, 4, 0)]),
            configuration(drives: [disk(.scsi, 0, 64)]),
            configuration(drives: [disk(.ide, 0, 0), disk(.ide, 0, 0, "/other")]),
            configuration(drives: [disk(.ide, 0, 0), disk(.scsi, 0, 0)]),
            configuration(drives: [DriveAttachment(kind: .dvd, controllerType: .scsi, controllerNumber: 0, location: 0, path: nil)]),
        ]
        for bad in refused {
            #expect(throws: ViridianError.self) { try bad.validate(host: host) }
        }
    }

    @Test("legacy adapters are Generation 1 only; MACs must be unicast and distinct; queues and port settings have limits")
    func adapters() {
        let legacy = NetworkAdapter(kind: .legacy, macAddress: "52:54:00:00:00:01")
        #expect(throws: Never.self) { try configuration(nics: [legacy]).validate(host: host) }
        #expect(throws: ViridianError.self) { try configuration(generation: .two, nics: [legacy]).validate(host: host) }
        #expect(throws: ViridianError.self) {
            try configuration(nics: [NetworkAdapter(kind: .synthetic, macAddress: "01:00:5e:00:00:01")]).validate(host: host)
        }
        let twin = NetworkAdapter(kind: .synthetic, macAddress: "52:54:00:00:00:02", switchName: "lab")
        #expect(throws: ViridianError.self) { try configuration(nics: [twin, twin]).validate(host: host) }
        var settings = PortSettings()
        settings.queues = 4
        #expect(throws: ViridianError.self, "more queues than processors") {
            try configuration(nics: [NetworkAdapter(kind: .synthetic, macAddress: "52:54:00:00:00:03", settings: settings)]).validate(host: host)
        }
        for change in [{ (s: inout PortSettings) in s.mtu = 9001 }, { $0.vlan = VLANSetting(mode: .access) },
                       { $0.vlan = VLANSetting(mode: .trunk, allowedIDs: [10, 4095]) }, { $0.maximumBandwidth = 10 },
                       { $0.iovWeight = 101 }] {
            var bad = PortSettings()
            change(&bad)
            #expect(throws: ViridianError.self) { try bad.validate() }
        }
        #expect(!MACAddress.isValid("52:54:00:00:00") && !MACAddress.isValid("zz:54:00:00:00:01"))
    }
}
