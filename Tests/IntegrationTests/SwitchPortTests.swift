import APITypes
import Foundation
import Testing

@Suite("Switch port features with traffic between VMs",
       .enabled(if: HostSupport.canBoot && AgentBundles.available && NetworkNamespaces.available,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing); \(NetworkNamespaces.missing)")))
struct SwitchPortTests {
    @Test("spoofed MACs, VLANs, trunks, rogue DHCP and RAs are stopped; bandwidth is capped; a mirror port sees its source", .guests(3))
    func portFeatures() async throws {
        try await SwitchLab.with { daemon, _ in
            #expect(await daemon.cli(["switch", "new", "lab", "--type", "private"]).exitCode == 0)
            for (index, name) in ["pa", "pb", "pc"].enumerated() {
                try await daemon.startGuest(name, on: "lab", address: "10.9.0.\(index + 1)/24")
            }
            for name in ["pa", "pb", "pc"] { try await daemon.waitForIntegration(name) }
            #expect(await daemon.pings("pa", "10.9.0.2"), "VMs on a private switch talk")

            // MAC address spoofing: off by default, so a frame from another MAC is dropped.
            let mac = try #require(try await daemon.json([NetworkAdapterInfo].self, ["vm", "nic", "list", "pa"]).first?.adapter.macAddress)
            try await daemon.guest("pa", "ip link set eth0 address 52:54:00:99:99:99")
            #expect(!(await daemon.pings("pa", "10.9.0.2")), "a spoofed source MAC is dropped")
            try await daemon.setNIC("pa", ["--mac-spoofing", "on"])
            try await daemon.guest("pb", "ip neigh flush all")
            try await eventually("frames from the changed MAC pass once spoofing is allowed", timeout: .seconds(15)) {
                await daemon.pings("pa", "10.9.0.2")
            }
            try await daemon.guest("pa", "ip link set eth0 address \(mac)")
            try await daemon.guest("pb", "ip neigh flush all")
            try await daemon.setNIC("pa", ["--mac-spoofing", "off"])
            try await eventually("pa's own MAC passes again", timeout: .seconds(15)) { await daemon.pings("pa", "10.9.0.2") }

            // Access VLANs separate; a trunk carries two VLANs as tags.
            try await daemon.setNIC("pa", ["--vlan-access", "10"])
            try await daemon.setNIC("pb", ["--vlan-access", "10"])
            try await daemon.setNIC("pc", ["--vlan-access", "20"])
            #expect(await daemon.pings("pa", "10.9.0.2"), "same access VLAN")
            #expect(!(await daemon.pings("pa", "10.9.0.3")), "VLAN 10 does not reach VLAN 20")
            for (name, host) in [("pa", 1), ("pb", 2)] {
                try await daemon.setNIC(name, ["--vlan-trunk", "10,20"])
                try await daemon.guest(name, """
                    for id in 10 20; do ip link add link eth0 name eth0.$id type vlan id $id && \
                    ip addr add 10.$id.0.\(host)/24 dev eth0.$id && ip link set eth0.$id up; done
                    """)
            }
            let vlan10 = await daemon.pings("pa", "10.10.0.2")
            let vlan20 = await daemon.pings("pa", "10.20.0.2")
            #expect(vlan10 && vlan20, "both VLANs cross the trunk")
            #expect(!(await daemon.pings("pa", "10.9.0.2")), "a trunk without a native VLAN drops untagged frames")
            try await daemon.setNIC("pb", ["--vlan-trunk", "10", "--vlan-native", "20"])
            #expect(!(await daemon.pings("pa", "10.20.0.2")), "VLAN 20 is no longer allowed tagged on pb")
            for name in ["pa", "pb", "pc"] { try await daemon.setNIC(name, ["--vlan-untagged"]) }
            #expect(await daemon.pings("pa", "10.9.0.3"))

            // DHCP guard: pb runs a DHCP server; with the guard on, pc gets no offer.
            try await daemon.guest("pb", """
                printf 'start 10.9.0.100\\nend 10.9.0.110\\ninterface eth0\\nlease_file /tmp/leases\\n' > /tmp/udhcpd.conf
                touch /tmp/leases; udhcpd /tmp/udhcpd.conf
                """)
            let askForLease = "udhcpc -i eth0 -n -q -t 3 -T 1 -s /bin/true"
            try await daemon.setNIC("pb", ["--dhcp-guard", "on"])
            #expect(await daemon.exec("pc", ["sh", "-c", askForLease]).exitCode != 0, "the guard drops the rogue offer")
            try await daemon.setNIC("pb", ["--dhcp-guard", "off"])
            #expect(await daemon.exec("pc", ["sh", "-c", askForLease]).exitCode == 0, "without the guard the offer arrives")

            // Router guard: pa advertises a prefix; with the guard on, pc configures no address from it.
            try await daemon.setNIC("pa", ["--router-guard", "on"])
            try await daemon.guest("pa", """
                sysctl -qw net.ipv6.conf.all.forwarding=1
                printf 'interface eth0 { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4; prefix fd00:9::/64 {}; };\\n' > /tmp/radvd.conf
                radvd -C /tmp/radvd.conf -p /tmp/radvd.pid -m stderr 2>/dev/null
                """)
            try await Task.sleep(for: .seconds(9))
            #expect(!(try await daemon.guest("pc", "ip -6 addr show dev eth0")).contains("fd00:9:"), "the guard drops the advertisements")
            try await daemon.setNIC("pa", ["--router-guard", "off"])
            try await eventually("pc configures an address from pa's advertisement", timeout: .seconds(20)) {
                (await daemon.exec("pc", ["ip", "-6", "addr", "show", "dev", "eth0"])).output.contains("fd00:9:")
            }
            try await daemon.guest("pa", "kill $(cat /tmp/radvd.pid)")

            // Maximum bandwidth: iperf3 from pa is held to the cap (within 15 %).
            try await daemon.setNIC("pa", ["--maximum-bandwidth", "40M"])
            try await daemon.guest("pb", "iperf3 -s -D")
            try await eventually("pb's iperf3 server listens on port 5201") {
                (await daemon.exec("pb", ["sh", "-c", "netstat -ltn | grep -q ':5201 '"])).exitCode == 0
            }
            let capped = try await daemon.guest("pa", "iperf3 -c 10.9.0.2 -t 5 -J")
            let rate = try Self.sentBitsPerSecond(capped)
            #expect(abs(rate - 40e6) / 40e6 < 0.15, "measured \(rate / 1e6) Mbit/s against a 40 Mbit/s cap")
            try await daemon.setNIC("pa", ["--maximum-bandwidth", "0"])
            // Paced at 200 Mbit/s: enough to show the cap is gone without taking both cores from other tests.
            let free = try Self.sentBitsPerSecond(try await daemon.guest("pa", "iperf3 -c 10.9.0.2 -t 2 -b 200M -J"))
            #expect(free > 80e6, "without the cap: \(free / 1e6) Mbit/s")

            // Port mirroring: pc (destination) captures pa's (source) traffic with pb; not before.
            try await startCapture(daemon, "pc", "unmirrored")
            _ = await daemon.exec("pa", ["ping", "-c", "3", "10.9.0.2"])
            #expect(!(try await capturedText(daemon, "pc", "unmirrored")).contains("ICMP echo"), "pc sees nothing of pa's unicast traffic unmirrored")
            try await daemon.setNIC("pc", ["--port-mirroring", "destination"])
            try await daemon.setNIC("pa", ["--port-mirroring", "source"])
            try await startCapture(daemon, "pc", "mirrored")
            _ = await daemon.exec("pa", ["ping", "-c", "3", "10.9.0.2"])
            let seen = try await capturedText(daemon, "pc", "mirrored")
            #expect(seen.contains("10.9.0.1 > 10.9.0.2: ICMP echo request") && seen.contains("10.9.0.2 > 10.9.0.1: ICMP echo reply"),
                    "the mirror port sees both directions: \(seen)")
        }
    }

    /// Starts capturing pa's and pb's pings in `vm` (for 8 s at most, or until two packets), returning
    /// once tcpdump listens: a capture that started late would miss what it is meant to see or not see.
    private func startCapture(_ daemon: TestDaemon, _ vm: String, _ name: String) async throws {
        let capture = "timeout 8 tcpdump -Z root -n -l -i eth0 -c 2 'icmp and host 10.9.0.1 and host 10.9.0.2'"
        _ = try await daemon.guest(vm, "(\(capture) >/tmp/\(name).out 2>/tmp/\(name).err; touch /tmp/\(name).done) </dev/null >/dev/null 2>&1 &")
        try await eventually("tcpdump listens in \(vm) for the \(name) capture") {
            (await daemon.exec(vm, ["grep", "-q", "listening on", "/tmp/\(name).err"])).exitCode == 0
        }
    }

    /// What the capture `name` in `vm` printed, once it ended.
    private func capturedText(_ daemon: TestDaemon, _ vm: String, _ name: String) async throws -> String {
        try await eventually("the \(name) capture in \(vm) ends (it stops after 8 s)") {
            (await daemon.exec(vm, ["test", "-e", "/tmp/\(name).done"])).exitCode == 0
        }
        return try await daemon.guest(vm, "cat /tmp/\(name).out")
    }

    /// The sender's rate from `iperf3 -J` output.
    static func sentBitsPerSecond(_ json: String) throws -> Double {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let end = object?["end"] as? [String: Any]
        return try #require((end?["sum_sent"] as? [String: Any])?["bits_per_second"] as? Double, "no rate in \(json.prefix(300))")
    }
}
