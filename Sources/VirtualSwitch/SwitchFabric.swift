import APITypes
import Foundation
import Logging

/// The kernel side of this host's virtual switches: a Linux bridge per switch, a tap per VM adapter,
/// one nftables table with every port's filters, and tc on ports that mirror or are capped.
/// One actor, so changes to bridges, taps and the ruleset happen one at a time.
public actor SwitchFabric {
    public let names: LinkNames
    let tools: NetworkTools
    let logger: Logger
    var switches: [String: SwitchDefinition] = [:]
    var ports: [PortKey: PortDefinition] = [:]
    var appliedTraffic: [String: PortTrafficPlan] = [:]

    public init(stateDirectory: String, logger: Logger) throws {
        names = LinkNames(stateDirectory: stateDirectory)
        tools = try NetworkTools()
        self.logger = logger
    }

    // MARK: Switches

    /// Makes (or, after a restart, adopts) the switch's bridge.
    public func ensureSwitch(_ definition: SwitchDefinition) async throws {
        let bridge = names.bridge(switchName: definition.name)
        let existed = await tools.linkExists(bridge)
        do {
            if !existed {
                try await tools.ip(["link", "add", bridge, "type", "bridge"], "creating the bridge of switch '\(definition.name)'")
            }
            try await tools.ip(["link", "set", bridge, "alias", names.bridgeAlias(switchName: definition.name)], "naming \(bridge)")
            if definition.type == .private || (definition.type == .external && !definition.allowManagementOS) {
                try Self.disableIPv6(on: bridge)
            }
            switch definition.type {
            case .external:
                try await takeOver(definition, bridge: bridge)
            case .internal:
                try await tools.ip(["link", "set", bridge, "mtu", String(definition.mtu), "up"], "starting \(bridge)")
                if let address = definition.hostAddress, !existed {
                    try await tools.ip(["addr", "add", address, "dev", bridge], "giving the host \(address) on '\(definition.name)'")
                }
            case .private, .nat:
                try await tools.ip(["link", "set", bridge, "mtu", String(definition.mtu), "up"], "starting \(bridge)")
            }
        } catch {
            if !existed {
                if definition.type == .external, let nic = definition.adapter {
                    try? await giveBack(nic, from: bridge, restoreAddresses: definition.allowManagementOS)
                }
                await tools.ipIgnoringFailure(["link", "del", bridge])
            }
            throw error
        }
        switches[definition.name.lowercased()] = definition
        logger.info("switch ready", metadata: ["switch": "\(definition.name)", "bridge": "\(bridge)", "adopted": "\(existed)"])
        try await applyRules()
    }

    /// Removes a switch's bridge (external: the NIC gets its addresses back). Refused while ports use it.
    public func removeSwitch(_ name: String) async throws {
        guard let definition = switches[name.lowercased()] else { return }
        if let port = ports.values.first(where: { $0.switchName.lowercased() == name.lowercased() }) {
            throw ViridianError(.invalidState, "switch '\(name)' still has VM '\(port.vmName)' connected")
        }
        let bridge = names.bridge(switchName: definition.name)
        if definition.type == .external, let nic = definition.adapter {
            try await giveBack(nic, from: bridge, restoreAddresses: definition.allowManagementOS)
        }
        await tools.ipIgnoringFailure(["link", "del", bridge])
        switches[name.lowercased()] = nil
        try await applyRules()
    }

    /// Changes a switch's MTU (and its ports that follow it).
    public func setMTU(_ mtu: Int, switchName: String) async throws {
        guard var definition = switches[switchName.lowercased()] else { return }
        definition.mtu = mtu
        switches[switchName.lowercased()] = definition
        let bridge = names.bridge(switchName: definition.name)
        if let nic = definition.adapter, definition.type == .external {
            try await tools.ip(["link", "set", nic, "mtu", String(mtu)], "setting the MTU of \(nic)")
        }
        for port in ports.values where port.switchName.lowercased() == switchName.lowercased() && port.settings.mtu == nil {
            try await tools.ip(["link", "set", names.tap(vmID: port.vmID, index: port.index), "mtu", String(mtu)], "setting a port's MTU")
        }
        try await tools.ip(["link", "set", bridge, "mtu", String(mtu)], "setting the MTU of \(bridge)")
    }

    /// The bridge of a switch and whether it exists now.
    public func status(of name: String) async -> (bridge: String, up: Bool) {
        let bridge = names.bridge(switchName: name)
        return (bridge, await tools.linkExists(bridge))
    }

    // MARK: Ports

    /// Creates the port's tap on its switch with its features and returns the tap's name.
    /// With `adopt`, a tap that exists (a running worker holds it) is kept as it is.
    public func attach(_ port: PortDefinition, adopt: Bool = false) async throws -> String {
        guard let definition = switches[port.switchName.lowercased()] else {
            throw ViridianError(.notFound, "switch '\(port.switchName)' does not exist on this host (see: viridian switch list)")
        }
        let tap = names.tap(vmID: port.vmID, index: port.index)
        let exists = await tools.linkExists(tap)
        if exists && !adopt {
            await removeTap(tap)
        }
        if !exists || !adopt {
            var create = ["tuntap", "add", tap, "mode", "tap"]
            if port.queues > 1 { create.append("multi_queue") }
            try await tools.ip(create, "creating the tap of VM '\(port.vmName)'")
        }
        do {
            try await tools.ip(["link", "set", tap, "alias", names.tapAlias(vmID: port.vmID, index: port.index)], "naming \(tap)")
            try await tools.ip(["link", "set", tap, "mtu", String(port.settings.mtu ?? definition.mtu), "master",
                                names.bridge(switchName: definition.name), "up"], "connecting \(tap) to switch '\(definition.name)'")
            ports[port.key] = port
            try await applyRules()
            try await applyTraffic(switchName: port.switchName)
            logger.debug("port connected", metadata: ["vm": "\(port.vmName)", "tap": "\(tap)", "switch": "\(definition.name)"])
        } catch {
            ports[port.key] = nil
            await removeTap(tap)
            await reapply(switchName: nil, after: "undoing the connection of \(tap)")
            throw error
        }
        return tap
    }

    /// Applies changed settings to a connected port (rules, tc, MTU) while the VM runs.
    public func update(_ port: PortDefinition) async throws {
        guard let old = ports[port.key], let definition = switches[port.switchName.lowercased()] else { return }
        ports[port.key] = port
        do {
            let tap = names.tap(vmID: port.vmID, index: port.index)
            if old.switchName.lowercased() != port.switchName.lowercased() {
                try await tools.ip(["link", "set", tap, "mtu", String(port.settings.mtu ?? definition.mtu), "master",
                                    names.bridge(switchName: definition.name)], "moving \(tap) to switch '\(definition.name)'")
                try await applyTraffic(switchName: old.switchName)
            }
            if old.settings.mtu != port.settings.mtu {
                try await tools.ip(["link", "set", tap, "mtu", String(port.settings.mtu ?? definition.mtu)], "setting the MTU of \(tap)")
            }
            try await applyRules()
            try await applyTraffic(switchName: port.switchName)
        } catch {
            ports[port.key] = old
            await reapply(switchName: port.switchName, after: "undoing a change of \(names.tap(vmID: port.vmID, index: port.index))")
            throw error
        }
    }

    /// Removes one port's tap and its rules.
    public func detach(_ key: PortKey) async {
        guard let port = ports.removeValue(forKey: key) else { return }
        await removeTap(names.tap(vmID: key.vmID, index: key.index))
        await reapply(switchName: port.switchName, after: "removing \(names.tap(vmID: key.vmID, index: key.index))")
    }

    /// Applies the ruleset (and a switch's traffic control) again after a port went away or a change
    /// was undone. The caller has its own outcome to report, so a failure here is logged as an error
    /// naming what was being tidied, never dropped.
    private func reapply(switchName: String?, after what: String) async {
        do {
            try await applyRules()
        } catch {
            logger.error("cannot apply the port rules again after \(what)", metadata: ["error": "\(error)"])
        }
        guard let switchName else { return }
        do {
            try await applyTraffic(switchName: switchName)
        } catch {
            logger.error("cannot apply traffic control again after \(what)", metadata: ["switch": "\(switchName)", "error": "\(error)"])
        }
    }

    /// Removes every port of a VM.
    public func detachAll(vmID: String) async {
        for key in ports.keys where key.vmID == vmID { await detach(key) }
    }

    /// The tap of a connected port.
    public func tap(of key: PortKey) -> String? {
        ports[key] == nil ? nil : names.tap(vmID: key.vmID, index: key.index)
    }

    /// How many ports each switch has, by lowercased switch name.
    public func portCounts() -> [String: Int] {
        Dictionary(grouping: ports.values, by: { $0.switchName.lowercased() }).mapValues(\.count)
    }

    /// At start-up: deletes this daemon's taps (and their shapers) that belong to no connected port, and
    /// bridges of switches that no longer exist (left behind by a crash). Returns what it removed.
    public func reconcile() async -> [String] {
        guard let output = try? await tools.ip(["-j", "link", "show"], "listing links"),
              let links = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
        else { return [] }
        let keepTaps = Set(ports.keys.map { names.tap(vmID: $0.vmID, index: $0.index) })
        let keepBridges = Set(switches.values.map { names.bridge(switchName: $0.name) })
        var removed: [String] = []
        for link in links {
            guard let name = link["ifname"] as? String else { continue }
            let alias = link["ifalias"] as? String ?? ""
            let ours = alias.hasPrefix(names.aliasPrefix)
            if ours && alias.contains(":port:") && !keepTaps.contains(name) {
                await removeTap(name)
                removed.append(name)
            } else if ours && alias.contains(":switch:") && !keepBridges.contains(name) {
                await tools.ipIgnoringFailure(["link", "del", name])
                removed.append(name)
            }
        }
        return removed
    }

    // MARK: Rules and traffic control

    private func removeTap(_ tap: String) async {
        appliedTraffic[tap] = nil
        await tools.removeTrafficControl(tap: tap, shaper: names.shaper(forTap: tap))
        await tools.ipIgnoringFailure(["link", "del", tap])
    }

    /// Replaces the nftables table with the rules of every port and uplink.
    func applyRules() async throws {
        let rulesetPorts = ports.values.sorted { ($0.vmID, $0.index) < ($1.vmID, $1.index) }
            .map { PortRuleset.Port(tap: names.tap(vmID: $0.vmID, index: $0.index), definition: $0) }
        let uplinks = switches.values.filter { $0.type == .external }.compactMap(\.adapter).sorted()
        let ruleset = PortRuleset(table: names.ruleTable, ports: rulesetPorts, uplinks: uplinks)
        try await tools.nftLoad(ruleset.script, "loading the port rules")
    }

    /// Re-plans tc for every port of a switch: mirroring follows the switch's Destination ports.
    func applyTraffic(switchName: String) async throws {
        let onSwitch = ports.values.filter { $0.switchName.lowercased() == switchName.lowercased() }
        let destinations = onSwitch.filter { $0.settings.portMirroring == .destination }
            .map { names.tap(vmID: $0.vmID, index: $0.index) }.sorted()
        for port in onSwitch {
            let tap = names.tap(vmID: port.vmID, index: port.index)
            let plan = PortTrafficPlan(tap: tap,
                                       mirrorTo: port.settings.portMirroring == .source ? destinations.filter { $0 != tap } : [],
                                       maximumBandwidth: port.settings.maximumBandwidth, shaper: names.shaper(forTap: tap))
            guard appliedTraffic[tap] != plan else { continue }
            appliedTraffic[tap] = nil
            try await tools.apply(plan)
            appliedTraffic[tap] = plan
        }
    }

    static func disableIPv6(on link: String) throws {
        let path = "/proc/sys/net/ipv6/conf/\(link)/disable_ipv6"
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try "1\n".write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw ViridianError(.engineFailure, "cannot turn off IPv6 on \(link)", cause: error)
        }
    }
}
