import APITypes
import Engine
import Foundation
import Inventory
import Migration
import QMP

extension VMManager {
    /// Checks that `name` can move now, without changing anything (when the move is asked for).
    package func checkMovable(_ name: String) throws -> VMInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        try requireNoCheckpoints(vm, "a move to another host")
        try vm.record.configuration.requireNoPassThrough(vm: vm.record.name, "a move to another host")
        switch vm.record.state {
        case .running, .paused, .off, .saved: return vm.info
        default:
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); it can move when Running, Paused, Off or Saved")
        }
    }

    /// Holds the VM for the move (job `jobID`): a running VM becomes Migrating, an Off or Saved VM stays as it is.
    package func beginDeparture(_ name: String, to peer: String, jobID: String) throws -> DepartingVM {
        let vm = try lookup(name)
        _ = try checkMovable(name)
        let id = vm.record.id
        if vm.record.state.hasWorker, vm.worker == nil {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no worker to migrate")
        }
        try requireOwned(vm)
        let generation = try markDeparting(id, peer: peer, previousState: vm.record.state)
        do {
            try beginOperation(.moving, vm, jobID: jobID)
        } catch {
            markOwnedAgain(id)
            throw error
        }
        if let worker = vm.worker {
            // The integration services let go of the guest's ports for the move: data QEMU writes into a
            // port while the VM is stopped for the switchover would change guest memory after its last copy.
            worker.hub.stop()
            setState(id, .migrating)
        }
        return DepartingVM(record: vm.record, integration: vm.integration, client: vm.worker?.client,
                           previousState: vm.record.state, paths: paths(vm), generation: generation)
    }

    /// The move failed or was cancelled: the VM stays here, running again if it was running, its
    /// integration services connected again. With `outcomeKnown` false (the destination may have
    /// taken it over) it stays paused, and its ownership stays `committing` until the destination
    /// answers (`MigrationService+Settle`).
    package func departureFailed(_ departing: DepartingVM, outcomeKnown: Bool = true) async {
        let id = departing.record.id
        let resume = outcomeKnown
        if outcomeKnown { markOwnedAgain(id) }
        defer { endOperation(id) }
        guard let vm = vms[id], let client = vm.worker?.client, vm.record.state == .migrating else { return }
        var workerLogger = logger
        workerLogger[metadataKey: "vm"] = "\(vm.record.name)"
        let hub = makeIntegrationHub(vm, logger: workerLogger)
        vms[id]?.worker?.hub = hub
        hub.start()
        if resume, departing.previousState == .running, let status = try? await client.queryStatus(), !status.running {
            do { try await client.cont() } catch {
                logger.error("cannot resume the VM after a failed move", metadata: ["vm": "\(departing.record.name)", "error": "\(error)"])
            }
        }
        let status = try? await client.queryStatus()
        setState(id, status.map { $0.running ? .running : .paused } ?? departing.previousState)
    }

    /// The destination owns the VM now: end the worker here (its state is already there) and
    /// forget the VM, deleting `files` (disks that were copied) and its folder.
    package func departed(_ departing: DepartingVM, to destination: String, deleting files: [String]) async {
        let id = departing.record.id
        if let worker = vms[id]?.worker {
            vms[id]?.exitExpected = true
            worker.watcher.cancel()
            worker.hub.stop()
            try? await worker.client.quit()
            _ = await Self.waitForExit(worker.client, timeout: .seconds(10))
            worker.client.close()
            WorkerLauncher.killWorker(departing.paths)
        }
        vms[id] = nil
        guestEvents.forget(id)
        releaseOwnership(id)
        do { try inventory.deleteVM(id: id) } catch {
            logger.error("cannot remove a departed VM from the inventory", metadata: ["vm": "\(departing.record.name)", "error": "\(error)"])
        }
        WorkerLauncher.cleanUp(departing.paths)
        await releasePorts(id)
        try? FileManager.default.removeItem(atPath: departing.paths.vmDirectory)
        ShieldingKey.remove(departing.paths)
        for file in files {
            try? FileManager.default.removeItem(atPath: file)
            do { try catalog.forget(file) } catch {
                logger.error("cannot forget a moved disk", metadata: ["disk": "\(file)", "error": "\(error)"])
            }
        }
        events.record(.information, .migration, vm: departing.record.name,
                      "VM '\(departing.record.name)' moved to host '\(destination)'")
    }
}

extension VMManager {
    /// Checks that the VM's disks can move now (Running, Paused or Off, and no other move). Its
    /// checkpoint tree moves with them.
    package func checkStorageMovable(_ name: String) throws -> VMInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        try vm.record.configuration.requireNoPassThrough(vm: vm.record.name, "a storage move")
        try vm.record.configuration.requireNotShielded(vm: vm.record.name, "a storage move")
        guard [.running, .paused, .off].contains(vm.record.state) else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); its storage can move when it is Running, Paused or Off")
        }
        return vm.info
    }

    /// Holds the VM for a storage move; returns its record and, when it runs, its monitor.
    package func beginStorageMove(_ name: String, jobID: String) throws -> (VMRecord, QMPClient?) {
        _ = try checkStorageMovable(name)
        let vm = try lookup(name)
        try beginOperation(.movingStorage, vm, jobID: jobID)
        return (vm.record, vm.worker?.client)
    }

    /// Ends a storage move: with `newPaths`, the VM's disks are those files from now on.
    package func endStorageMove(_ id: String, newPaths: [Int: String]?) {
        endOperation(id)
        guard let newPaths, var vm = vms[id] else { return }
        for (index, path) in newPaths where vm.record.configuration.drives.indices.contains(index) {
            vm.record.configuration.drives[index].path = path
        }
        vms[id] = vm
        store(vm.record)
    }
}

extension VMManager {
    package func checkpointFolder(ofVM id: String) -> String {
        vms[id].map { paths($0).checkpointDirectory } ?? ""
    }

    package func recordTreeMoved(_ id: String, from: String, to moved: DiskImage, dependents: [String]) throws {
        guard let vm = vms[id] else { throw ViridianError(.notFound, "the VM whose storage moves is gone") }
        var change = CheckpointChange(vm: vm.record, current: try inventory.currentCheckpoint(vmID: id))
        for var checkpoint in try inventory.checkpoints(vmID: id) where checkpoint.images.contains(from) {
            for index in checkpoint.configuration.drives.indices where checkpoint.configuration.drives[index].path == from {
                checkpoint.configuration.drives[index].path = moved.path
            }
            change.saved.append(checkpoint)
        }
        change.recordedDisks.append(DiskRecord(path: moved.path, format: moved.format, parentPath: nil, origin: .created, ownerVMID: id))
        for dependent in dependents {
            guard var record = try catalog.record(dependent) else { continue }
            record.parentPath = moved.path
            change.recordedDisks.append(record)
        }
        change.forgottenDisks.append(from)
        try inventory.apply(change)
    }
}

extension VMManager: DepartureHost, StorageMoveHost {}
