import APITypes
import Foundation
import HostServices
import Inventory
import Migration

/// The VM's side of the ownership store: a VM runs here only while its record says this host
/// owns it, and a move changes the record step by step, so that a daemon that dies mid-move
/// knows on restart whether it may touch the VM (see `MigrationService+Settle`).
extension VMManager {
    /// Records this host as the owner of a VM it just created or adopted (generation 1).
    func claimNew(_ id: String) throws {
        try ownership.swap(id, expected: nil, new: OwnershipRecord(vmID: id, owner: ownership.hostName, generation: 1))
    }

    /// At start-up: VMs stored before ownership was recorded are this host's.
    func adoptUnowned() {
        for id in vms.keys {
            do {
                if try ownership.record(id) == nil { try claimNew(id) }
            } catch {
                events.record(.error, .vmms, vm: vms[id]?.record.name, "cannot record the ownership of VM '\(vms[id]?.record.name ?? id)': \(ViridianError.wrapping(error).message)")
            }
        }
    }

    /// Refuses to run (start, restore, resume) a VM this host does not own right now.
    func requireOwned(_ vm: ManagedVM) throws {
        guard let record = try ownership.record(vm.record.id) else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no ownership record on this host; viridiand records it at start-up")
        }
        switch record.state {
        case .owned where record.owner == ownership.hostName:
            return
        case .owned:
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' belongs to host '\(record.owner)' (generation \(record.generation))")
        case .departing, .committing:
            throw ViridianError(.busy, "VM '\(vm.record.name)' is being handed over to host '\(record.peer ?? "?")': "
                                + "it must not run here until that host says whether it took it over (viridiand keeps asking; see: viridian events --vm \(vm.record.name))")
        }
    }

    /// The ownership record a step of a move starts from. - Throws: when it is missing.
    package func ownershipRecord(_ id: String) throws -> OwnershipRecord {
        guard let record = try ownership.record(id) else {
            throw ViridianError(.invalidState, "VM \(id) has no ownership record on this host")
        }
        return record
    }

    /// A move to `peer` begins: owned → departing, remembering the state to return to.
    func markDeparting(_ id: String, peer: String, previousState: VMState) throws -> Int64 {
        let current = try ownershipRecord(id)
        guard current.state == .owned, current.owner == ownership.hostName else { throw ViridianError(.invalidState, "VM \(id) is not this host's to move") }
        var next = current
        next.state = .departing
        next.peer = peer
        next.previousState = previousState
        try ownership.swap(id, expected: current, new: next)
        return current.generation
    }

    /// The destination prepared the move `moveID`: recorded, so a restart can ask about it.
    package func noteMovePlan(_ id: String, moveID: String) throws {
        let current = try ownershipRecord(id)
        guard current.state == .departing else { return }
        var next = current
        next.moveID = moveID
        try ownership.swap(id, expected: current, new: next)
    }

    /// About to ask the destination to take the VM over: departing → committing. From here on
    /// only the destination's answer decides, and the VM must not run here until it is known.
    package func markCommitting(_ id: String) throws {
        let current = try ownershipRecord(id)
        guard current.state == .departing else { throw ViridianError(.invalidState, "VM \(id) is not departing") }
        var next = current
        next.state = .committing
        try ownership.swap(id, expected: current, new: next)
    }

    /// The move did not happen: the VM is this host's again (same generation).
    func markOwnedAgain(_ id: String) {
        do {
            let current = try ownershipRecord(id)
            guard current.state != .owned else { return }
            var next = current
            next.state = .owned
            next.peer = nil
            next.moveID = nil
            next.previousState = nil
            try ownership.swap(id, expected: current, new: next)
        } catch {
            events.record(.error, .migration, vm: vms[id]?.record.name, "cannot record that VM \(id) stays on this host: \(ViridianError.wrapping(error).message)")
        }
    }

    /// The destination took the VM over: this host forgets its record.
    func releaseOwnership(_ id: String) {
        do {
            if let current = try ownership.record(id) { try ownership.swap(id, expected: current, new: nil) }
        } catch {
            events.record(.error, .migration, vm: vms[id]?.record.name, "cannot forget the ownership of a departed VM \(id): \(ViridianError.wrapping(error).message)")
        }
    }

    /// Holds a VM whose handover is being settled: no other operation may touch it meanwhile.
    package func holdForSettling(_ id: String, jobID: String?) {
        vms[id]?.operation = VMOperation(.moving, jobID: jobID)
        if let worker = vms[id]?.worker {
            // As at the start of a move: the integration services let go of the guest's ports, and
            // `departureFailed` connects them again if the VM stays.
            worker.hub.stop()
            setState(id, .migrating)
        }
    }

    /// Lets go of a VM whose handover could not be settled (it stays as it is).
    package func endSettling(_ id: String) {
        endOperation(id)
    }

    /// Unfinished departures (after a restart, or a move whose outcome is unknown), with the VM as it is now.
    package func unfinishedDepartures() throws -> [(record: OwnershipRecord, vm: DepartingVM)] {
        try ownership.all().compactMap { record in
            guard record.state != .owned, let vm = vms[record.vmID] else { return nil }
            return (record, DepartingVM(record: vm.record, integration: vm.integration, client: vm.worker?.client,
                                        previousState: record.previousState ?? vm.record.state, paths: paths(vm),
                                        generation: record.generation))
        }
    }
}
