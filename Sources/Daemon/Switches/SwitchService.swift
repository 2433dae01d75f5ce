import APITypes
import Foundation
import HostServices
import Inventory
import Logging
import VirtualSwitch

/// Virtual switches (New-VMSwitch, Get-VMSwitch, Set-VMSwitch, Remove-VMSwitch): stored in the
/// inventory, built by the fabric, recreated at every daemon start. The NAT "Default Switch" is
/// always there and needs neither root nor a bridge. An actor: changes happen one at a time, and a
/// name being created is reserved across the bridge's set-up, so two concurrent creates of one name
/// give one switch and one "already exists" (and the loser removes nothing of the winner's).
actor SwitchService {
    let inventory: Inventory
    /// Nil when `ip` / `nft` are missing; bridged switches are then refused with the reason.
    let fabric: SwitchFabric?
    let capabilities: NetworkCapabilities
    let events: EventLog
    /// Names (lowercased) whose switch is being created, and the host NICs they take.
    private var creating: Set<String> = []
    private var adaptersBeingTaken: Set<String> = []

    init(inventory: Inventory, stateDirectory: String, events: EventLog, logger: Logger) async {
        self.inventory = inventory
        self.events = events
        capabilities = await NetworkCapabilities.probe()
        fabric = try? SwitchFabric(stateDirectory: stateDirectory, logger: logger)
    }

    /// The fabric, or why bridged switches cannot work on this host.
    nonisolated func requireFabric() throws -> SwitchFabric {
        if let blocker = capabilities.switchBlocker {
            throw ViridianError(.missingDependency, "bridged switches are not usable on this host: \(blocker); "
                                + "'\(NetworkAdapter.defaultSwitch)' (NAT) still works (see: viridian host show)")
        }
        guard let fabric else {
            throw ViridianError(.missingDependency, "bridged switches need ip and nft; install with: apt-get install iproute2 nftables")
        }
        return fabric
    }

    /// The stored switch called `name` (case-insensitive); nil for the NAT switch.
    nonisolated func record(_ name: String) throws -> SwitchRecord? {
        if name.lowercased() == NetworkAdapter.defaultSwitch.lowercased() { return nil }
        guard let record = try inventory.switches().first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw ViridianError(.notFound, "switch '\(name)' does not exist on this host (see: viridian switch list)")
        }
        return record
    }

    /// The switch's name as stored, or the error for an unknown one.
    nonisolated func canonicalName(_ name: String) throws -> String {
        try record(name)?.name ?? NetworkAdapter.defaultSwitch
    }

    /// Every switch name, the NAT switch first.
    nonisolated func names() -> [String] {
        [NetworkAdapter.defaultSwitch] + ((try? inventory.switches()) ?? []).map(\.name)
    }

    func list() async throws -> [VirtualSwitchInfo] {
        let counts = await fabric?.portCounts() ?? [:]
        var result = [VirtualSwitchInfo(name: NetworkAdapter.defaultSwitch, type: .nat, bridge: nil, adapter: nil,
                                        allowManagementOS: true, hostAddress: nil, mtu: SwitchDefinition.defaultMTU,
                                        notes: "NAT through QEMU user networking; needs no root", connectedAdapters: 0,
                                        status: "Up")]
        for record in try inventory.switches() {
            result.append(await info(record, connected: counts[record.name.lowercased()] ?? 0))
        }
        return result
    }

    func show(_ name: String) async throws -> VirtualSwitchInfo {
        guard let record = try record(name) else { return try await list()[0] }
        return await info(record, connected: await fabric?.portCounts()[record.name.lowercased()] ?? 0)
    }

    private func info(_ record: SwitchRecord, connected: Int) async -> VirtualSwitchInfo {
        var bridge: String?
        var status = "Down: bridged switches are not usable on this host"
        if let fabric {
            let state = await fabric.status(of: record.name)
            bridge = state.bridge
            status = state.up ? "Up" : "Down: the bridge \(state.bridge) does not exist (see the event log)"
        }
        return VirtualSwitchInfo(name: record.name, type: record.type, bridge: bridge, adapter: record.adapter,
                                 allowManagementOS: record.allowManagementOS, hostAddress: record.hostAddress, mtu: record.mtu,
                                 notes: record.notes, connectedAdapters: connected, status: status)
    }

    /// Creates a switch: the bridge first, then the record (a failure leaves neither).
    func create(_ request: NewSwitchRequest) async throws -> VirtualSwitchInfo {
        try SwitchName.validate(request.name)
        if let notes = request.notes { try FreeText.validate(notes, what: "notes") }
        guard request.type != .nat else {
            throw ViridianError(.invalidArgument, "there is one NAT switch, '\(NetworkAdapter.defaultSwitch)'; create external, internal or private switches")
        }
        let key = request.name.lowercased()
        if creating.contains(key) || names().contains(where: { $0.lowercased() == key }) {
            throw ViridianError(.alreadyExists, "a switch named '\(request.name)' exists already")
        }
        let mtu = request.mtu ?? SwitchDefinition.defaultMTU
        try PortSettings.validateMTU(mtu)
        switch request.type {
        case .external:
            guard let adapter = request.adapter, !adapter.isEmpty else {
                throw ViridianError(.invalidArgument, "an external switch needs the host NIC it takes over (--adapter IFACE)")
            }
            if let other = try inventory.switches().first(where: { $0.adapter == adapter }) {
                throw ViridianError(.conflict, "host NIC \(adapter) already belongs to switch '\(other.name)'")
            }
            if adaptersBeingTaken.contains(adapter) {
                throw ViridianError(.conflict, "host NIC \(adapter) is being taken by a switch that is being created")
            }
        default:
            guard request.adapter == nil, request.allowManagementOS == nil else {
                throw ViridianError(.invalidArgument, "--adapter and --allow-management-os are for external switches")
            }
        }
        if let address = request.hostAddress {
            guard request.type == .internal else {
                throw ViridianError(.invalidArgument, "only an internal switch gives the host an address (--host-address)")
            }
            _ = try IPNetwork(parsing: address)
        }
        let fabric = try requireFabric()
        creating.insert(key)
        if let adapter = request.adapter { adaptersBeingTaken.insert(adapter) }
        defer {
            creating.remove(key)
            if let adapter = request.adapter { adaptersBeingTaken.remove(adapter) }
        }
        let record = SwitchRecord(name: request.name, type: request.type, adapter: request.adapter,
                                  allowManagementOS: request.type == .internal || (request.allowManagementOS ?? false),
                                  hostAddress: request.hostAddress, mtu: mtu, notes: request.notes ?? "", createdAt: Date())
        try await fabric.ensureSwitch(record.definition)
        do {
            try inventory.insert(record)
        } catch {
            try? await fabric.removeSwitch(record.name)
            throw error
        }
        events.record(.information, .network, vm: nil, "\(record.type.rawValue.lowercased()) switch '\(record.name)' created"
                      + (record.adapter.map { " on \($0)" } ?? ""))
        return try await show(record.name)
    }

    /// Removes a switch no VM uses.
    func remove(_ name: String, usedBy vms: [String]) async throws {
        guard let record = try record(name) else {
            throw ViridianError(.invalidArgument, "'\(NetworkAdapter.defaultSwitch)' is built in and cannot be removed")
        }
        guard vms.isEmpty else {
            throw ViridianError(.invalidState, "switch '\(record.name)' is used by VM \(vms.map { "'\($0)'" }.joined(separator: ", ")); "
                                + "move their adapters first (viridian vm nic set VM --switch OTHER, or vm nic remove)")
        }
        try await requireFabric().removeSwitch(record.name)
        try inventory.deleteSwitch(name: record.name)
        events.record(.information, .network, vm: nil, "switch '\(record.name)' removed")
    }

    /// Changes a switch's MTU or notes.
    func set(_ name: String, _ request: SetSwitchRequest) async throws -> VirtualSwitchInfo {
        guard var record = try record(name) else {
            throw ViridianError(.invalidArgument, "'\(NetworkAdapter.defaultSwitch)' has no settings to change")
        }
        if let mtu = request.mtu {
            try PortSettings.validateMTU(mtu)
            try await requireFabric().setMTU(mtu, switchName: record.name)
            record.mtu = mtu
        }
        if let notes = request.notes {
            try FreeText.validate(notes, what: "notes")
            record.notes = notes
        }
        try inventory.update(record)
        return try await show(record.name)
    }

    /// At daemon start: builds (or adopts) every stored switch; a failure is an event, not a crash.
    func recreateAll() async {
        guard let records = try? inventory.switches(), !records.isEmpty else { return }
        guard let fabric = try? requireFabric() else {
            events.record(.error, .network, vm: nil, "\(records.count) switches cannot be built: \(capabilities.switchBlocker ?? "ip or nft missing")")
            return
        }
        for record in records {
            do {
                try await fabric.ensureSwitch(record.definition)
            } catch {
                events.record(.error, .network, vm: nil, "switch '\(record.name)' could not be built: \(ViridianError.wrapping(error).message)")
            }
        }
    }
}

extension SwitchRecord {
    /// What the fabric builds for this switch.
    var definition: SwitchDefinition {
        SwitchDefinition(name: name, type: type, adapter: adapter, allowManagementOS: allowManagementOS,
                         hostAddress: hostAddress, mtu: mtu)
    }
}
