import APITypes

/// Renders the nftables ruleset (bridge family) for every port and uplink of this daemon's switches:
/// MAC address spoofing, DHCP guard, router guard and VLAN separation.
///
/// VLANs: each frame gets its VLAN as the packet mark when it enters a port (0 = untagged), and
/// a port passes on only frames of its own VLANs. Access ports carry untagged frames of their
/// VLAN; trunk ports tagged frames of their allowed VLANs and untagged frames of their native
/// VLAN; the uplink of an external switch is a trunk of every VLAN with untagged frames in no VLAN.
/// This kernel path never adds or removes tags, so a frame whose tagging would have to change on
/// the way (an access port's frame to a trunk's non-native VLAN) is dropped, not mistagged.
struct PortRuleset {
    /// A port with its tap.
    struct Port {
        var tap: String
        var definition: PortDefinition
    }

    var table: String
    var ports: [Port]
    /// The host NICs external switches took over.
    var uplinks: [String]

    /// The script for `nft -f`: replaces the table in one transaction (or removes it when empty).
    var script: String {
        var lines = ["table bridge \(table)", "delete table bridge \(table)"]
        guard !ports.isEmpty || !uplinks.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        lines.append("table bridge \(table) {")
        let vlansInUse = Set(ports.flatMap { port -> [Int] in
            let vlan = port.definition.settings.vlan
            return [vlan.accessID, vlan.nativeID].compactMap { $0 } + vlan.allowedIDs
        })
        let uplinkRules = uplinks.flatMap { uplinkIncoming($0, vlans: Array(vlansInUse)) }
        lines.append(contentsOf: chain("ports_in", hook: "prerouting", rules: ports.flatMap(incomingRules) + uplinkRules))
        lines.append(contentsOf: chain("ports_out", hook: "postrouting", rules: ports.flatMap(outgoingRules) + uplinks.flatMap(uplinkOutgoing)))
        lines.append(contentsOf: chain("ports_local", hook: "input", rules: ports.flatMap(localRules)))
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private func chain(_ name: String, hook: String, rules: [String]) -> [String] {
        ["  chain \(name) {", "    type filter hook \(hook) priority -200; policy accept;"] + rules.map { "    " + $0 } + ["  }"]
    }

    private func incomingRules(_ port: Port) -> [String] {
        let tap = "iifname \"\(port.tap)\""
        let settings = port.definition.settings
        var rules: [String] = []
        if !settings.macAddressSpoofing {
            rules.append("\(tap) ether saddr != \(port.definition.macAddress.lowercased()) drop")
        }
        if settings.dhcpGuard {
            rules += ["\(tap) ip protocol udp udp sport 67 drop", "\(tap) ip6 nexthdr udp udp sport 547 drop",
                      "\(tap) vlan type ip ip protocol udp udp sport 67 drop", "\(tap) vlan type ip6 ip6 nexthdr udp udp sport 547 drop"]
        }
        if settings.routerGuard {
            rules += ["\(tap) icmpv6 type { nd-router-advert, nd-redirect } drop", "\(tap) icmp type redirect drop",
                      "\(tap) vlan type ip6 icmpv6 type { nd-router-advert, nd-redirect } drop",
                      "\(tap) vlan type ip icmp type redirect drop"]
        }
        let vlan = settings.vlan
        switch vlan.mode {
        case .untagged:
            rules += ["\(tap) ether type 8021q drop", "\(tap) meta mark set 0"]
        case .access:
            rules += ["\(tap) ether type 8021q drop", "\(tap) meta mark set \(vlan.accessID ?? 0)"]
        case .trunk:
            rules.append("\(tap) vlan id \(Self.set(vlan.allowedIDs)) meta mark set \(Self.markFromTag(vlan.allowedIDs)) accept")
            rules.append("\(tap) ether type 8021q drop")
            rules.append(vlan.nativeID.map { "\(tap) meta mark set \($0)" } ?? "\(tap) drop")
        }
        return rules
    }

    private func outgoingRules(_ port: Port) -> [String] {
        let tap = "oifname \"\(port.tap)\""
        let vlan = port.definition.settings.vlan
        switch vlan.mode {
        case .untagged:
            return ["\(tap) meta mark != 0 drop", "\(tap) ether type 8021q drop"]
        case .access:
            return ["\(tap) meta mark != \(vlan.accessID ?? 0) drop", "\(tap) ether type 8021q drop"]
        case .trunk:
            var rules = ["\(tap) meta mark != \(Self.set(vlan.allowedIDs + [vlan.nativeID].compactMap { $0 })) drop"]
            let tagged = vlan.allowedIDs.filter { $0 != vlan.nativeID }
            if !tagged.isEmpty { rules.append("\(tap) meta mark \(Self.set(tagged)) ether type != 8021q drop") }
            if let native = vlan.nativeID { rules.append("\(tap) meta mark \(native) ether type 8021q drop") }
            return rules
        }
    }

    /// A port in a VLAN does not reach the host's own (untagged) interface on the switch.
    private func localRules(_ port: Port) -> [String] {
        port.definition.settings.vlan.mode == .untagged ? [] : ["iifname \"\(port.tap)\" meta mark != 0 drop"]
    }

    /// Tagged frames from the uplink in a VLAN some port uses get that VLAN; other tagged frames a
    /// VLAN no port has (4095); untagged frames none.
    private func uplinkIncoming(_ uplink: String, vlans: [Int]) -> [String] {
        let name = "iifname \"\(uplink)\""
        var rules: [String] = []
        if !vlans.isEmpty { rules.append("\(name) vlan id \(Self.set(vlans)) meta mark set \(Self.markFromTag(vlans)) accept") }
        return rules + ["\(name) ether type 8021q meta mark set 4095 accept", "\(name) meta mark set 0"]
    }

    /// `vlan id map { 10 : 10, … }`: the tag's VLAN as the mark. (`meta mark set vlan id` would copy
    /// the tag's bytes in network order, so the mark would not equal the VLAN.)
    private static func markFromTag(_ ids: [Int]) -> String {
        "vlan id map { " + Array(Set(ids)).sorted().map { "\($0) : \($0)" }.joined(separator: ", ") + " }"
    }

    private func uplinkOutgoing(_ uplink: String) -> [String] {
        ["oifname \"\(uplink)\" meta mark != 0 ether type != 8021q drop"]
    }

    private static func set(_ ids: [Int]) -> String {
        "{ " + Array(Set(ids)).sorted().map(String.init).joined(separator: ", ") + " }"
    }
}
