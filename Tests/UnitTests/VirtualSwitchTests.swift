import APITypes
@testable import Engine
import Testing
@testable import VirtualSwitch

@Suite("Virtual switch building blocks")
struct VirtualSwitchTests {
    func port(_ tap: String, mac: String = "52:54:00:00:00:01", _ change: (inout PortSettings) -> Void = { _ in }) -> PortRuleset.Port {
        var settings = PortSettings()
        change(&settings)
        return PortRuleset.Port(tap: tap, definition: PortDefinition(vmID: "v", vmName: "v", index: 0, macAddress: mac, switchName: "lab",
                                                                     settings: settings, queues: 1))
    }

    @Test("the ruleset filters spoofed MACs by default, adds guards on request and keeps VLANs apart")
    func ruleset() {
        let script = PortRuleset(table: "viridian_t", ports: [
            port("vta"),
            port("vtb", mac: "52:54:00:00:00:02") { $0.macAddressSpoofing = true; $0.dhcpGuard = true; $0.routerGuard = true
                $0.vlan = VLANSetting(mode: .access, accessID: 10) },
            port("vtc", mac: "52:54:00:00:00:03") { $0.vlan = VLANSetting(mode: .trunk, allowedIDs: [20, 10], nativeID: 10) },
        ], uplinks: ["eth1"]).script
        #expect(script.hasPrefix("table bridge viridian_t\ndelete table bridge viridian_t\n"), "replaced in one transaction")
        #expect(script.contains("iifname \"vta\" ether saddr != 52:54:00:00:00:01 drop"))
        #expect(!script.contains("iifname \"vtb\" ether saddr"), "spoofing allowed on vtb")
        #expect(script.contains("iifname \"vtb\" ip protocol udp udp sport 67 drop") && script.contains("nd-router-advert"))
        #expect(!script.contains("iifname \"vta\" ip protocol udp"), "no guard unless asked")
        #expect(script.contains("iifname \"vta\" meta mark set 0") && script.contains("oifname \"vta\" meta mark != 0 drop"))
        #expect(script.contains("iifname \"vtb\" meta mark set 10") && script.contains("oifname \"vtb\" meta mark != 10 drop"))
        #expect(script.contains("iifname \"vtc\" vlan id { 10, 20 } meta mark set vlan id map { 10 : 10, 20 : 20 } accept"))
        #expect(script.contains("oifname \"vtc\" meta mark { 20 } ether type != 8021q drop"), "VLAN 20 leaves the trunk tagged")
        #expect(script.contains("oifname \"vtc\" meta mark 10 ether type 8021q drop"), "the native VLAN leaves untagged")
        #expect(script.contains("iifname \"vtb\" meta mark != 0 drop"), "a VLAN port does not reach the host's untagged interface")
        #expect(script.contains("iifname \"eth1\" vlan id { 10, 20 }"))
        #expect(PortRuleset(table: "viridian_t", ports: [], uplinks: []).script == "table bridge viridian_t\ndelete table bridge viridian_t\n")
    }

    @Test("link names fit the kernel's 15 characters and differ per daemon, VM and adapter")
    func linkNames() {
        let one = LinkNames(stateDirectory: "/var/lib/viridian")
        let two = LinkNames(stateDirectory: "/tmp/other")
        let tap = one.tap(vmID: "0f6c", index: 11)
        #expect(tap.count <= 15 && one.bridge(switchName: "A very long switch name").count <= 15 && one.shaper(forTap: tap).count <= 15)
        #expect(tap != two.tap(vmID: "0f6c", index: 11) && tap != one.tap(vmID: "0f6c", index: 1))
        #expect(one.bridge(switchName: "Lab") == one.bridge(switchName: "lab"), "switch names are case-insensitive")
    }

    @Test("a tapped synthetic adapter gets its queues, MTU, offloads and, in Generation 2, a root port")
    func adapterDevice() {
        var settings = PortSettings()
        settings.mtu = 9000
        settings.segmentationOffload = false
        let adapter = NetworkAdapter(kind: .synthetic, macAddress: "52:54:00:00:00:09", switchName: "lab", settings: settings)
        let device = NetworkAdapterDevice(adapter: adapter, index: 2, generation: .two, processorCount: 4, tap: "vt123")
        let options = Dictionary(uniqueKeysWithValues: device.deviceOptions.map { ($0.key, $0.value) })
        #expect(device.queues == 4 && options["mq"] == "on" && options["vectors"] == "10")
        #expect(options["host_mtu"] == "9000" && options["host_tso4"] == "off" && options["csum"] == nil)
        #expect(options["bus"] == "nicslot2" && options["id"] == "nic2")
        #expect(device.netdevArgument == "tap,id=net2,ifname=vt123,script=no,downscript=no,vhost=off,queues=4")
        let nat = NetworkAdapterDevice(adapter: NetworkAdapter(kind: .synthetic, macAddress: "52:54:00:00:00:08"), index: 0,
                                       generation: .one, processorCount: 4, tap: nil)
        #expect(nat.queues == 1 && nat.netdevArgument == "user,id=net0" && !nat.deviceOptions.contains { $0.key == "bus" })
    }

    @Test("a changed adapter setting is applied; 0 clears a value")
    func requestApplied() {
        var request = SetNetworkAdapterRequest()
        request.maximumBandwidth = 50_000_000
        request.vlan = VLANSetting(mode: .access, accessID: 7)
        var settings = request.applied(to: PortSettings())
        #expect(settings.maximumBandwidth == 50_000_000 && settings.vlan.summary == "Access 7" && !settings.dhcpGuard)
        request = SetNetworkAdapterRequest()
        request.maximumBandwidth = 0
        settings = request.applied(to: settings)
        #expect(settings.maximumBandwidth == nil && settings.vlan.accessID == 7)
    }

    @Test("hardware offloads are reported as unavailable with a reason, never claimed")
    func hardwareOffloads() {
        var settings = PortSettings()
        settings.iovWeight = 50
        let features = HardwareOffloads.effective(settings, uplink: nil, ipsecOffloadCapable: false)
        #expect(features.map(\.name) == ["SR-IOV", "VMQ", "IPsec task offload"])
        #expect(features.allSatisfy { $0.effective == "Unavailable" && $0.reason != nil })
        settings.iovWeight = 0
        #expect(HardwareOffloads.effective(settings, uplink: "eth9", ipsecOffloadCapable: false)[0].effective == "Off")
    }
}
