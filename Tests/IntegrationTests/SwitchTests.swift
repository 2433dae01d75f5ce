import APITypes
import Foundation
import Testing

@Suite("Virtual switches on the host's kernel",
       .enabled(if: HostSupport.canBoot && AgentBundles.available && NetworkNamespaces.available,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing); \(NetworkNamespaces.missing)")))
struct SwitchTests {
    @Test("external, internal and private switches; jumbo frames, queues, offloads, hot-plug; a crash leaves nothing behind",
          .guests(3)) // sj has two processors: under TCG each vCPU is a host thread
    func switchesAndAdapters() async throws {
        try await SwitchLab.with(namespaces: 2) { daemon, net in
            // The "physical" NIC: a veth to a second namespace, carrying the host's only default route.
            try await net.link(0, 1, name: "x", prefix: "10.60.0")
            let nic = net.device("x", "a")
            #expect(await net.run(0, [NetworkNamespaces.ip, "route", "add", "default", "via", "10.60.0.2"]).exitCode == 0)

            let features = try await daemon.json(HostInfo.self, ["host", "show"]).networkFeatures ?? []
            #expect(["bridge", "tun", "nftables bridge family", "ifb"].allSatisfy { name in features.contains { $0.name == name && $0.usable } },
                    "\(features)")

            // External: refused while it would cut the host off; with --allow-management-os the host keeps its address.
            let refused = await daemon.cli(["switch", "new", "ext", "--type", "external", "--adapter", nic])
            #expect(refused.exitCode != 0 && refused.error.contains("only default route"), "\(refused)")
            let external = await daemon.cli(["switch", "new", "ext", "--type", "external", "--adapter", nic, "--allow-management-os"])
            #expect(external.exitCode == 0, "\(external.error)")
            #expect(await net.run(0, ["/bin/busybox", "ping", "-c", "1", "-W", "2", "10.60.0.2"]).exitCode == 0,
                    "the host still reaches the network through the switch")
            #expect(await daemon.cli(["switch", "new", "int", "--type", "internal", "--host-address", "10.8.0.254/24",
                                      "--mtu", "9000"]).exitCode == 0)
            #expect(await daemon.cli(["switch", "new", "spare", "--type", "private"]).exitCode == 0)

            // Bad input changes nothing.
            let before = try await daemon.json([VirtualSwitchInfo].self, ["switch", "list"])
            for bad in [["switch", "new", "INT", "--type", "private"], ["switch", "new", "a/b", "--type", "private"],
                        ["switch", "new", "x2", "--type", "external", "--adapter", "nosuchnic0"],
                        ["switch", "new", "x3", "--type", "private", "--mtu", "20000"],
                        ["switch", "new", "x4", "--type", "private", "--adapter", nic]] {
                let result = await daemon.cli(bad)
                #expect(result.exitCode != 0 && result.error.hasPrefix("error: "), "\(bad): \(result)")
            }
            #expect(try await daemon.json([VirtualSwitchInfo].self, ["switch", "list"]) == before)

            // A Generation 2 VM with two processors on the jumbo internal switch, a Generation 1 VM outside.
            try await daemon.createTestVM("sj", extra: ["--switch", "int", "--append", "viridian.ip=10.8.0.1/24",
                                                        "--generation", "2", "--cpus", "2", "--memory", "384M"])
            try await daemon.createTestVM("sk", extra: ["--switch", "ext", "--append", "viridian.ip=10.60.0.50/24"])
            try await daemon.setNIC("sj", ["--mtu", "9000", "--queues", "2"])
            try await daemon.setNIC("sk", ["--offloads", "off"])
            #expect(await daemon.cli(["vm", "start", "sj"]).exitCode == 0)
            let whileRunning = await daemon.cli(["vm", "nic", "set", "sj", "--queues", "1"])
            #expect(whileRunning.exitCode != 0 && whileRunning.error.contains("only while it is Off"), "\(whileRunning)")
            let badNIC = await daemon.cli(["vm", "nic", "set", "sk", "--vlan-access", "5000"])
            #expect(badNIC.exitCode != 0 && badNIC.error.contains("4094"), "\(badNIC)")
            #expect(await daemon.cli(["vm", "nic", "add", "sk", "--switch", "nosuch"]).exitCode != 0)
            #expect(await daemon.cli(["vm", "start", "sk"]).exitCode == 0)
            for name in ["sj", "sk"] { try await daemon.waitForIntegration(name, timeout: .seconds(180)) }

            #expect(await daemon.pings("sk", "10.60.0.2"), "a VM on the external switch reaches the physical network")
            let offloads = try await daemon.guest("sk", "ethtool -k eth0")
            #expect(offloads.contains("tcp-segmentation-offload: off") && offloads.contains("tx-checksumming: off"), "\(offloads)")

            #expect(try await daemon.guest("sj", "cat /sys/class/net/eth0/mtu").trimmingWhitespace() == "9000")
            #expect(try await daemon.guest("sj", "ethtool -l eth0").contains("Combined:\t2"), "two queue pairs in the guest")
            #expect(await daemon.pings("sj", "10.8.0.254"), "host and VM talk on an internal switch")
            let tap = try #require(try await daemon.json([NetworkAdapterInfo].self, ["vm", "nic", "list", "sj"]).first?.tap)
            let packets = await net.counter(0, link: tap, "rx_packets")
            let bytes = await net.counter(0, link: tap, "rx_bytes")
            #expect(await daemon.pings("sj", "10.8.0.254", size: 8900), "jumbo ping")
            let jumboBytes = await net.counter(0, link: tap, "rx_bytes") - bytes
            let jumboPackets = await net.counter(0, link: tap, "rx_packets") - packets
            #expect(jumboPackets > 0 && jumboBytes / jumboPackets > 4000, "9000-byte frames end to end: \(jumboBytes) bytes in \(jumboPackets) frames")

            // Hot add and remove on the running Generation 2 VM.
            let added = await daemon.cli(["vm", "nic", "add", "sj", "--switch", "spare"])
            #expect(added.exitCode == 0, "\(added.error)")
            try await eventually("the guest sees its new adapter", timeout: .seconds(30)) {
                await daemon.exec("sj", ["test", "-e", "/sys/class/net/eth1"]).exitCode == 0
            }
            let middle = await daemon.cli(["vm", "nic", "remove", "sj", "--nic", "0"])
            #expect(middle.exitCode != 0 && middle.error.contains("only its last adapter"), "\(middle)")
            let removed = await daemon.cli(["vm", "nic", "remove", "sj", "--nic", "1"])
            #expect(removed.exitCode == 0, "\(removed.error)")
            #expect(await daemon.exec("sj", ["test", "-e", "/sys/class/net/eth1"]).exitCode != 0)

            // SR-IOV is asked for where the host has none: accepted, reported, and an event says so.
            try await daemon.setNIC("sk", ["--iov-weight", "50"])
            let iov = try await daemon.json([NetworkAdapterInfo].self, ["vm", "nic", "list", "sk"]).first?.hardwareFeatures
                .first { $0.name == "SR-IOV" }
            #expect(iov?.effective == "Unavailable" && iov?.reason?.contains("no SR-IOV virtual functions") == true, "\(String(describing: iov))")
            #expect(await daemon.cli(["events", "--vm", "sk"]).output.contains("SR-IOV for adapter 0"))

            let inUse = await daemon.cli(["switch", "remove", "int"])
            #expect(inUse.exitCode != 0 && inUse.error.contains("'sj'"), "\(inUse)")

            // Crash: viridiand and sk's worker die. At start-up sk is Off, its tap is gone, sj keeps
            // its tap, and a bridge deleted meanwhile is rebuilt.
            let skTap = try #require(try await daemon.json([NetworkAdapterInfo].self, ["vm", "nic", "list", "sk"]).first?.tap)
            let skPID = try #require(try await daemon.json(VMInfo.self, ["vm", "show", "sk"]).workerPID)
            let spareBridge = try #require(try await daemon.json(VirtualSwitchInfo.self, ["switch", "show", "spare"]).bridge)
            await daemon.kill()
            Foundation.kill(skPID, SIGKILL)
            while Foundation.kill(skPID, 0) == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await net.run(0, [NetworkNamespaces.ip, "link", "del", spareBridge]).exitCode == 0)
            try await daemon.start()
            #expect(try await daemon.json(VMInfo.self, ["vm", "show", "sk"]).state == .off)
            #expect(!(await net.hasLink(0, skTap)), "the dead VM's tap was removed")
            #expect(await net.hasLink(0, tap), "the running VM keeps its tap")
            #expect(await net.hasLink(0, spareBridge), "the switch was rebuilt")
            #expect(await daemon.pings("sj", "10.8.0.254"))

            // Removing the external switch gives the NIC its address and route back.
            #expect(await daemon.cli(["vm", "nic", "set", "sk", "--switch", "spare"]).exitCode == 0)
            let removal = await daemon.cli(["switch", "remove", "ext"])
            #expect(removal.exitCode == 0, "\(removal.error)")
            #expect(await net.run(0, [NetworkNamespaces.ip, "-4", "addr", "show", "dev", nic]).output.contains("10.60.0.1/24"))
            #expect(await net.run(0, ["/bin/busybox", "ping", "-c", "1", "-W", "2", "10.60.0.2"]).exitCode == 0)
        }
    }
}
