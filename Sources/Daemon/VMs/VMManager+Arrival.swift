import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import Migration
import QMP

extension VMManager {
    /// Holds a place for a VM arriving from `source`: its name and id must be free, its memory
    /// must fit and its files exist (but `arriving`, uploaded later). Nothing is stored until `completeArrival`.
    package func reserveArrival(_ record: VMRecord, from source: String, arriving: Set<String>) throws {
        try VMName.validate(record.name)
        if vms[record.id] != nil || arrivals[record.id] != nil {
            throw ViridianError(.alreadyExists, "VM '\(record.name)' (id \(record.id)) is already on host, or arriving")
        }
        if vms.values.contains(where: { $0.record.name.lowercased() == record.name.lowercased() })
            || arrivals.values.contains(where: { $0.name.lowercased() == record.name.lowercased() }) {
            throw ViridianError(.alreadyExists, "a VM named '\(record.name)' already exists on this host")
        }
        try record.configuration.validate(host: host)
        try requireMemory(record.configuration.memoryMiB, for: record.name)
        try validateFiles(record.configuration, arriving: arriving)
        arrivals[record.id] = record
    }

    /// Gives back a place that `reserveArrival` held (the move failed).
    package func releaseArrival(_ id: String) async {
        arrivals[id] = nil
        await releasePorts(id)
    }

    /// Launches the worker that waits, paused, for the VM's memory over TLS.
    package func launchArrivalWorker(_ record: VMRecord, tlsDirectory: String) async throws -> Int32 {
        let paths = WorkerPaths(stateDirectory: stateDirectory, vmID: record.id)
        let firmware = record.configuration.generation == .two
            ? try Firmware.uefi(secureBoot: record.configuration.secureBoot) : nil
        let taps = try await connectPorts(record)
        let commandLine = try QEMUCommandLine(name: record.name, id: record.id, configuration: record.configuration,
                                              accelerator: accelerator, paths: paths, firmware: firmware, incoming: true,
                                              migrationTLSDirectory: tlsDirectory, taps: taps,
                                              diskChains: try diskChains(record.configuration), shieldingKeyFile: try shieldingKeyFile(record))
        return try await launcher.launch(commandLine)
    }

    /// The VM is ours now: stores it, with the move's committed outcome, in one transaction —
    /// before its processors run here. A live VM is stored Paused until its worker is taken over.
    package func storeArrival(_ record: VMRecord, integration: IntegrationRecord, live: Bool, moveID: String,
                      sourceGeneration: Int64?) throws {
        var stored = record
        stored.state = live ? .paused : (record.state == .saved ? .saved : .off)
        if !live { stored.startedAt = nil }
        let owned = OwnershipRecord(vmID: record.id, owner: ownership.hostName, generation: (sourceGeneration ?? 0) + 1)
        try inventory.insertArrived(stored, integration: integration, moveID: moveID, ownership: owned)
        arrivals[record.id] = nil
        vms[record.id] = ManagedVM(record: stored, integration: integration)
    }

    /// The committed outcome of the move `id` to this host, from the inventory (it survives restarts).
    /// - Throws: when the inventory cannot be read: "not committed" must never be a guess.
    package nonisolated func committedMove(_ id: String) throws -> Bool {
        try inventory.incomingMove(id: id)?.state == "committed"
    }

    /// Whether a VM with `id` is stored here (a committed arrival).
    nonisolated func isStored(vmID: String) throws -> Bool {
        try inventory.containsVM(id: vmID)
    }

    /// Takes over the worker of a stored arrival (when live; the caller has already let its
    /// processors run if they ran on the source). Returns the VM as it is here.
    package func takeOverArrival(_ record: VMRecord, workerPID: Int32?, from source: String) async throws -> VMInfo {
        if let workerPID {
            do {
                let client = try await attachWorker(id: record.id, pid: workerPID)
                let status = try await client.queryStatus()
                setState(record.id, status.running ? .running : .paused)
            } catch {
                events.record(.error, .migration, vm: record.name,
                              "VM '\(record.name)' arrived from '\(source)' but its worker could not be taken over: \(ViridianError.wrapping(error).message)")
                throw error
            }
        }
        events.record(.information, .migration, vm: record.name,
                      "VM '\(record.name)' arrived from host '\(source)' (\(workerPID == nil ? "offline" : "live") move)")
        return try lookup(record.name).info
    }
}

extension VMManager: ArrivalHost {}
