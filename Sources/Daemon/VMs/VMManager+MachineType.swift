import APITypes
import Engine

extension VMManager {
    /// Why this host cannot run `configuration`'s machine type, or nil when it can.
    package nonisolated func machineTypeRefusal(_ configuration: VMConfiguration) -> String? {
        configuration.machineType.flatMap { launcher.qemu.machineTypes.refusal($0, qemuVersion: launcher.qemu.version) }
    }

    /// Records the type a worker started before Viridian recorded machine types really runs.
    func recordMachineType(_ machineType: String, id: String) throws {
        guard var vm = vms[id] else { return }
        vm.record.configuration.machineType = machineType
        try inventory.update(vm.record)
        vms[id] = vm
    }

    /// The machine type `vm set --machine-type` asks for: `latest`, or a versioned type this host
    /// offers for the VM's generation.
    func chooseMachineType(_ requested: String, generation: Generation) throws -> String {
        let machineTypes = launcher.qemu.machineTypes
        if requested.lowercased() == "latest" { return machineTypes.newest(for: generation) }
        let versioned = machineTypes.aliases[requested] ?? requested
        guard QEMUMachineTypes.belongs(versioned, to: generation) else {
            throw ViridianError(.invalidArgument, "machine type \(requested) is not a Generation \(generation.rawValue) type "
                                + "(Generation 1 runs pc-i440fx-*, Generation 2 runs pc-q35-*)")
        }
        if let refusal = machineTypes.refusal(versioned, qemuVersion: launcher.qemu.version) {
            throw ViridianError(.invalidArgument, refusal)
        }
        return versioned
    }

    /// The machine type a start uses, recorded in the inventory when the VM had none yet: a Saved
    /// VM's comes from its saved state's header (the type it was saved under), any other VM gets
    /// this host's newest. Refuses a type this host's QEMU does not offer, with the way out.
    func fixMachineType(id: String, savedState: String?) throws -> String {
        guard let vm = vms[id] else { throw ViridianError(.notFound, "the VM was removed") }
        let machineTypes = launcher.qemu.machineTypes
        let machineType: String
        if let recorded = vm.record.configuration.machineType {
            machineType = recorded
        } else if let savedState {
            machineType = try SavedStateHeader.machineType(ofFile: savedState)
        } else {
            machineType = machineTypes.newest(for: vm.record.configuration.generation)
        }
        if let refusal = machineTypes.refusal(machineType, qemuVersion: launcher.qemu.version) {
            let wayOut = savedState == nil
                ? "change it with: viridian vm set \(vm.record.name) --machine-type latest"
                : "move it to a host whose QEMU offers that type"
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' cannot start here: \(refusal); \(wayOut)")
        }
        if vm.record.configuration.machineType != machineType { try recordMachineType(machineType, id: id) }
        return machineType
    }
}
