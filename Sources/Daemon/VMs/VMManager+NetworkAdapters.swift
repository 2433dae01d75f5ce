import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import QMP
import VirtualSwitch

/// Network adapters of a VM (Add-VMNetworkAdapter, Get-, Set-, Remove-): port features apply to a
/// running VM at once; adapters are hot-added and hot-removed while it runs.
extension VMManager {
    /// How long a guest has to let go of a hot-removed adapter.
    static let unplugTimeout = Duration.seconds(30)

    public func networkAdapters(_ name: String) async throws -> [NetworkAdapterInfo] {
        let vm = try lookup(name)
        var result: [NetworkAdapterInfo] = []
        for (index, adapter) in vm.record.configuration.networkAdapters.enumerated() {
            result.append(await adapterInfo(vm, index: index, adapter: adapter))
        }
        return result
    }

    private func adapterInfo(_ vm: ManagedVM, index: Int, adapter: NetworkAdapter) async -> NetworkAdapterInfo {
        let switchMTU = (try? switches.record(adapter.switchName))??.mtu ?? SwitchDefinition.defaultMTU
        let tap = await switches.fabric?.tap(of: PortKey(vmID: vm.record.id, index: index))
        let features = await switches.fabric?.hardwareFeatures(adapter.settings, switchName: adapter.switchName)
            ?? HardwareOffloads.effective(adapter.settings, uplink: nil, ipsecOffloadCapable: false)
        return NetworkAdapterInfo(index: index, adapter: adapter, tap: tap, mtu: adapter.settings.mtu ?? switchMTU,
                                  queues: NetworkAdapterDevice.queues(for: adapter, processorCount: vm.record.configuration.processorCount),
                                  hardwareFeatures: features)
    }

    /// Adds an adapter; on a Running or Paused VM it is hot-plugged (and the tap connected) first.
    public func addNetworkAdapter(_ name: String, _ request: AddNetworkAdapterRequest) async throws -> NetworkAdapterInfo {
        try await withOperation(.changingAdapters, try lookup(name)) { try await performAddNetworkAdapter(name, request) }
    }

    /// The body of `addNetworkAdapter`, holding the VM's turn.
    private func performAddNetworkAdapter(_ name: String, _ request: AddNetworkAdapterRequest) async throws -> NetworkAdapterInfo {
        let vm = try lookup(name)
        try requireSettled(vm, "adapters can be added")
        let switchName = try switches.canonicalName(request.switchName)
        let mac = try request.macAddress.map(Self.normalizedMAC) ?? MACPool.next(avoiding: allMACs())
        if request.macAddress != nil, allMACs().contains(mac) {
            throw ViridianError(.conflict, "MAC address \(mac) is in use by another adapter on this host")
        }
        let settings = request.settings?.applied(to: PortSettings()) ?? PortSettings()
        let adapter = NetworkAdapter(kind: request.kind ?? .synthetic, macAddress: mac, staticMAC: request.macAddress != nil,
                                     switchName: switchName, settings: settings)
        var record = vm.record
        record.configuration.networkAdapters.append(adapter)
        try record.configuration.validate(host: host)
        try requireTrafficControl(settings)
        let index = record.configuration.networkAdapters.count - 1
        if let worker = vm.worker {
            guard adapter.kind == .synthetic else {
                throw ViridianError(.invalidState, "legacy adapters cannot be hot-added; stop VM '\(vm.record.name)' first")
            }
            try await hotPlug(record, index: index, client: worker.client)
        }
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        current.record.configuration = record.configuration
        vms[vm.record.id] = current
        store(current.record)
        events.record(.information, .network, vm: vm.record.name,
                      "network adapter \(index) (\(mac)) added to VM '\(vm.record.name)' on switch '\(switchName)'"
                      + (vm.worker != nil ? " while it runs" : ""))
        let info = await adapterInfo(current, index: index, adapter: adapter)
        reportUnavailableHardware(info, vmName: vm.record.name, explicitly: request.settings)
        return info
    }

    /// Removes an adapter. While the VM runs, the guest is asked to release it first (hot-unplug);
    /// only the last adapter can go then, so the others keep their devices.
    public func removeNetworkAdapter(_ name: String, index: Int) async throws {
        try await withOperation(.changingAdapters, try lookup(name)) { try await performRemoveNetworkAdapter(name, index: index) }
    }

    /// The body of `removeNetworkAdapter`, holding the VM's turn.
    private func performRemoveNetworkAdapter(_ name: String, index: Int) async throws {
        let vm = try lookup(name)
        try requireSettled(vm, "adapters can be removed")
        let adapters = vm.record.configuration.networkAdapters
        guard adapters.indices.contains(index) else {
            throw ViridianError(.notFound, "VM '\(vm.record.name)' has no network adapter \(index) (see: viridian vm nic list \(vm.record.name))")
        }
        if let worker = vm.worker {
            guard index == adapters.count - 1 else {
                throw ViridianError(.invalidState, "while VM '\(vm.record.name)' runs only its last adapter (\(adapters.count - 1)) can be removed; "
                                    + "stop the VM to remove adapter \(index)")
            }
            try await hotUnplug(vm, index: index, client: worker.client)
        }
        guard var current = vms[vm.record.id], current.record.configuration.networkAdapters.indices.contains(index) else { return }
        let removed = current.record.configuration.networkAdapters.remove(at: index)
        vms[vm.record.id] = current
        store(current.record)
        events.record(.information, .network, vm: vm.record.name,
                      "network adapter \(index) (\(removed.macAddress)) removed from VM '\(vm.record.name)'")
    }

    /// Changes an adapter's settings. Port features, the switch (between bridged switches) and the
    /// MTU apply to a running VM at once; the MAC, queues and offloads are device properties and
    /// need the VM Off.
    public func setNetworkAdapter(_ name: String, index: Int, _ request: SetNetworkAdapterRequest) async throws -> NetworkAdapterInfo {
        try await withOperation(.changingAdapters, try lookup(name)) { try await performSetNetworkAdapter(name, index: index, request) }
    }

    /// The body of `setNetworkAdapter`, holding the VM's turn.
    private func performSetNetworkAdapter(_ name: String, index: Int, _ request: SetNetworkAdapterRequest) async throws -> NetworkAdapterInfo {
        let vm = try lookup(name)
        try requireSettled(vm, "adapters can be changed")
        guard vm.record.configuration.networkAdapters.indices.contains(index) else {
            throw ViridianError(.notFound, "VM '\(vm.record.name)' has no network adapter \(index) (see: viridian vm nic list \(vm.record.name))")
        }
        let old = vm.record.configuration.networkAdapters[index]
        var adapter = old
        adapter.settings = request.applied(to: old.settings)
        if let switchName = request.switchName { adapter.switchName = try switches.canonicalName(switchName) }
        if let mac = request.macAddress {
            if mac.lowercased() == "dynamic" {
                adapter.macAddress = MACPool.next(avoiding: allMACs())
                adapter.staticMAC = false
            } else {
                adapter.macAddress = try Self.normalizedMAC(mac)
                adapter.staticMAC = true
                if adapter.macAddress != old.macAddress.lowercased(), allMACs().contains(adapter.macAddress) {
                    throw ViridianError(.conflict, "MAC address \(adapter.macAddress) is in use by another adapter on this host")
                }
            }
        }
        var record = vm.record
        record.configuration.networkAdapters[index] = adapter
        try record.configuration.validate(host: host)
        try requireTrafficControl(adapter.settings)
        if vm.worker != nil {
            try await applyLive(old: old, new: adapter, record: record, index: index)
        }
        guard var current = vms[vm.record.id], current.record.configuration.networkAdapters.indices.contains(index) else {
            throw ViridianError(.conflict, "VM '\(name)' or its adapter \(index) was removed meanwhile")
        }
        current.record.configuration.networkAdapters[index] = adapter
        vms[vm.record.id] = current
        store(current.record)
        let info = await adapterInfo(current, index: index, adapter: adapter)
        reportUnavailableHardware(info, vmName: vm.record.name, explicitly: request)
        return info
    }

    private func applyLive(old: NetworkAdapter, new: NetworkAdapter, record: VMRecord, index: Int) async throws {
        let needsOff = [
            (old.macAddress.lowercased() != new.macAddress.lowercased(), "the MAC address"),
            (old.settings.queues != new.settings.queues, "queues"),
            (old.settings.checksumOffload != new.settings.checksumOffload
                || old.settings.segmentationOffload != new.settings.segmentationOffload, "offloads"),
            (old.isOnDefaultSwitch != new.isOnDefaultSwitch, "a move to or from the NAT switch"),
            (old.settings.mtu != new.settings.mtu && new.kind == .synthetic, "the MTU the guest is offered (host_mtu)"),
        ].filter(\.0).map(\.1)
        guard needsOff.isEmpty else {
            throw ViridianError(.invalidState, "VM '\(record.name)' is running; \(needsOff.joined(separator: ", ")) can change only while it is Off "
                                + "(port features, VLAN, bandwidth and mirroring change while it runs)")
        }
        guard !new.isOnDefaultSwitch, let definition = portDefinitions(record).first(where: { $0.index == index }) else { return }
        try await switches.requireFabric().update(definition)
    }

    /// Refuses tc features where tc cannot do them.
    private func requireTrafficControl(_ settings: PortSettings) throws {
        guard settings.maximumBandwidth != nil || settings.portMirroring == .source,
              let blocker = switches.capabilities.trafficControlBlocker else { return }
        throw ViridianError(.missingDependency, "maximum bandwidth and port mirroring need tc on this host: \(blocker)")
    }

    private func requireSettled(_ vm: ManagedVM, _ what: String) throws {
        guard !vm.record.state.isTransitional, vm.record.state != .saved else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); \(what) when it is Off, Running or Paused")
        }
    }

    /// Hot-plugs adapter `index` of `record`: tap, `netdev_add`, `device_add`; undone on failure.
    private func hotPlug(_ record: VMRecord, index: Int, client: QMPClient) async throws {
        let adapter = record.configuration.networkAdapters[index]
        var tap: String?
        if let definition = portDefinitions(record).first(where: { $0.index == index }) {
            tap = try await switches.requireFabric().attach(definition)
        }
        let device = NetworkAdapterDevice(adapter: adapter, index: index, generation: record.configuration.generation,
                                          processorCount: record.configuration.processorCount, tap: tap)
        do {
            try await client.execute("netdev_add", arguments: Self.qmpArguments(device.netdevOptions))
            do {
                var arguments = Self.qmpArguments(device.deviceOptions)
                arguments["driver"] = .string(device.driver)
                try await client.execute("device_add", arguments: arguments)
            } catch {
                _ = try? await client.execute("netdev_del", arguments: ["id": .string(device.netdevID)])
                throw error
            }
        } catch {
            await switches.fabric?.detach(PortKey(vmID: record.id, index: index))
            throw ViridianError(.engineFailure, "QEMU could not hot-add the adapter: \(ViridianError.wrapping(error).message)")
        }
    }

    /// Asks the guest to release adapter `index` (`device_del`), waits until QEMU removed it, then
    /// removes its back end and tap.
    private func hotUnplug(_ vm: ManagedVM, index: Int, client: QMPClient) async throws {
        let device = "nic\(index)"
        guard try await client.deleteDevice(device, timeout: Self.unplugTimeout) else {
            throw ViridianError(.timeout, "the guest in VM '\(vm.record.name)' did not release adapter \(index) within "
                                + "\(Self.unplugTimeout); it stays connected")
        }
        _ = try? await client.execute("netdev_del", arguments: ["id": .string("net\(index)")])
        await switches.fabric?.detach(PortKey(vmID: vm.record.id, index: index))
    }

    /// QMP arguments from command-line options, typed as QMP wants them: `on`/`off` as booleans, numbers as integers.
    private static func qmpArguments(_ options: [(key: String, value: String)]) -> [String: JSONValue] {
        var arguments: [String: JSONValue] = [:]
        for (key, value) in options {
            switch value {
            case "on": arguments[key] = .bool(true)
            case "off": arguments[key] = .bool(false)
            default: arguments[key] = Int64(value).map { .int($0) } ?? .string(value)
            }
        }
        return arguments
    }

    static func normalizedMAC(_ text: String) throws -> String {
        let mac = text.lowercased().replacingOccurrences(of: "-", with: ":")
        guard MACAddress.isValid(mac) else {
            throw ViridianError(.invalidArgument, "'\(text)' is not a unicast MAC address like 52:54:00:12:34:56")
        }
        return mac
    }

    /// An event when SR-IOV, VMQ or IPsec offload was asked for and the host cannot give it.
    private func reportUnavailableHardware(_ info: NetworkAdapterInfo, vmName: String, explicitly request: SetNetworkAdapterRequest?) {
        guard let request else { return }
        let asked: Set<String> = Set([
            (request.iovWeight ?? 0) > 0 ? "SR-IOV" : nil,
            (request.vmqWeight ?? 0) > 0 ? "VMQ" : nil,
            (request.ipsecOffloadMaximumSecurityAssociations ?? 0) > 0 ? "IPsec task offload" : nil,
        ].compactMap { $0 })
        for feature in info.hardwareFeatures where asked.contains(feature.name) && feature.effective == "Unavailable" {
            events.record(.warning, .network, vm: vmName,
                          "\(feature.name) for adapter \(info.index) of VM '\(vmName)' is not in effect: \(feature.reason ?? "not available")")
        }
    }
}
