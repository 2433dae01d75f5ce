import APITypes
import Foundation

/// External switches: the bridge takes over a host NIC. With `allowManagementOS` the host's
/// addresses and routes move from the NIC to the bridge (and back when the switch is removed);
/// without it the NIC stops being the host's interface, which is refused when it carries the
/// host's only default route.
extension SwitchFabric {
    func takeOver(_ definition: SwitchDefinition, bridge: String) async throws {
        guard let nic = definition.adapter else {
            throw ViridianError(.invalidArgument, "an external switch needs --adapter IFACE")
        }
        let state = try await linkState(nic)
        if state.master == bridge {
            try await tools.ip(["link", "set", bridge, "mtu", String(definition.mtu), "up"], "starting \(bridge)")
            return
        }
        if let master = state.master {
            throw ViridianError(.conflict, "host NIC \(nic) already belongs to \(master)")
        }
        let addresses = try await addresses(of: nic)
        let routes = try await defaultRoutes()
        let nicRoutes = routes.filter { $0.device == nic }
        if !definition.allowManagementOS && !nicRoutes.isEmpty && routes.allSatisfy({ $0.device == nic }) {
            throw ViridianError(.invalidState, "host NIC \(nic) carries the host's only default route; taking it over would cut the host off "
                                + "(use --allow-management-os to keep the host's addresses on the switch)")
        }
        try await tools.ip(["link", "set", bridge, "address", state.mac, "mtu", String(definition.mtu)], "preparing \(bridge)")
        try await tools.ip(["link", "set", nic, "mtu", String(definition.mtu)], "setting the MTU of \(nic)")
        try await tools.ip(["link", "set", nic, "master", bridge, "up"], "connecting \(nic) to \(bridge)")
        try await tools.ip(["link", "set", bridge, "up"], "starting \(bridge)")
        try await move(addresses, routes: nicRoutes, from: nic, to: bridge, keep: definition.allowManagementOS)
    }

    /// Lets go of the NIC; with `restoreAddresses` the bridge's addresses and routes go back to it.
    func giveBack(_ nic: String, from bridge: String, restoreAddresses: Bool) async throws {
        let addresses = restoreAddresses ? try await addresses(of: bridge) : []
        let routes = restoreAddresses ? try await defaultRoutes().filter { $0.device == bridge } : []
        await tools.ipIgnoringFailure(["link", "set", nic, "nomaster"])
        try await move(addresses, routes: routes, from: bridge, to: nic, keep: true)
    }

    private func move(_ addresses: [String], routes: [DefaultRoute], from source: String, to target: String, keep: Bool) async throws {
        for address in addresses {
            await tools.ipIgnoringFailure(["addr", "del", address, "dev", source])
            if keep { try await tools.ip(["addr", "add", address, "dev", target], "moving \(address) to \(target)") }
        }
        guard keep else { return }
        for route in routes {
            var arguments = [route.family, "route", "replace", "default"]
            if let gateway = route.gateway { arguments += ["via", gateway] }
            try await tools.ip(arguments + ["dev", target], "moving the default route to \(target)")
        }
    }

    private struct LinkState {
        var mac: String
        var master: String?
    }

    private struct DefaultRoute {
        var family: String
        var gateway: String?
        var device: String
    }

    private func linkState(_ nic: String) async throws -> LinkState {
        let output: String
        do {
            output = try await tools.ip(["-j", "link", "show", "dev", nic], "reading \(nic)")
        } catch {
            throw ViridianError(.notFound, "host NIC '\(nic)' does not exist (see: ip link)")
        }
        guard let links = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]],
              let link = links.first, let mac = link["address"] as? String, link["link_type"] as? String == "ether"
        else { throw ViridianError(.invalidArgument, "'\(nic)' is not an Ethernet interface") }
        if (link["linkinfo"] as? [String: Any])?["info_kind"] as? String == "bridge" {
            throw ViridianError(.invalidArgument, "'\(nic)' is a bridge, not a NIC")
        }
        return LinkState(mac: mac, master: link["master"] as? String)
    }

    /// The global addresses of a link as `ADDR/PREFIX`.
    private func addresses(of link: String) async throws -> [String] {
        let output = try await tools.ip(["-j", "addr", "show", "dev", link], "reading the addresses of \(link)")
        let entries = (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
        return entries.flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }
            .filter { $0["scope"] as? String == "global" }
            .compactMap { info in
                guard let local = info["local"] as? String, let prefix = info["prefixlen"] as? Int else { return nil }
                return "\(local)/\(prefix)"
            }
    }

    private func defaultRoutes() async throws -> [DefaultRoute] {
        var routes: [DefaultRoute] = []
        for family in ["-4", "-6"] {
            let output = try await tools.ip(["-j", family, "route", "show", "default"], "reading the default routes")
            let entries = (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
            routes += entries.compactMap { entry in
                (entry["dev"] as? String).map { DefaultRoute(family: family, gateway: entry["gateway"] as? String, device: $0) }
            }
        }
        return routes
    }
}
