import APITypes
import Engine
import Inventory
import VirtualSwitch

/// A VM's bridged adapters as switch ports: connected before its worker starts (or arrives), kept
/// while a worker holds their taps, removed when the worker is gone.
extension VMManager {
    /// The ports of a VM's adapters on bridged switches (the NAT switch needs none).
    func portDefinitions(_ record: VMRecord) -> [PortDefinition] {
        let configuration = record.configuration
        return configuration.networkAdapters.enumerated().compactMap { index, adapter in
            guard !adapter.isOnDefaultSwitch else { return nil }
            return PortDefinition(vmID: record.id, vmName: record.name, index: index, macAddress: adapter.macAddress,
                                  switchName: adapter.switchName, settings: adapter.settings,
                                  queues: NetworkAdapterDevice.queues(for: adapter, processorCount: configuration.processorCount))
        }
    }

    /// Connects every bridged adapter of the VM and returns the taps by adapter index. A failure
    /// leaves none connected. With `adopt`, taps a running worker holds are kept (daemon restart).
    func connectPorts(_ record: VMRecord, adopt: Bool = false) async throws -> [Int: String] {
        let definitions = portDefinitions(record)
        guard !definitions.isEmpty else { return [:] }
        let fabric = try switches.requireFabric()
        var taps: [Int: String] = [:]
        do {
            for definition in definitions {
                taps[definition.index] = try await fabric.attach(definition, adopt: adopt)
            }
        } catch {
            await fabric.detachAll(vmID: record.id)
            throw error
        }
        return taps
    }

    /// Removes the VM's taps and their rules.
    func releasePorts(_ id: String) async {
        await switches.fabric?.detachAll(vmID: id)
    }

    /// Names of the VMs with an adapter on `switchName`.
    func vmNames(usingSwitch switchName: String) -> [String] {
        vms.values.filter { vm in
            vm.record.configuration.networkAdapters.contains { $0.switchName.lowercased() == switchName.lowercased() }
        }.map(\.record.name).sorted()
    }

    /// At daemon start, after workers were re-attached: removes taps and bridges a crash left behind.
    func reconcilePorts() async {
        guard let fabric = switches.fabric else { return }
        let removed = await fabric.reconcile()
        if !removed.isEmpty {
            events.record(.warning, .network, vm: nil,
                          "removed \(removed.count) network links left behind by VMs that are no longer running: \(removed.joined(separator: ", "))")
        }
    }
}
