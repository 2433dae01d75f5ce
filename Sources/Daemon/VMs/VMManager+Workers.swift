import APITypes
import Engine
import Foundation
import HostServices
import QMP

extension VMManager {
    /// Connects to a worker's monitor and starts following its events.
    func attachWorker(id: String, pid: Int32) async throws -> QMPClient {
        guard let vm = vms[id] else { throw ViridianError(.notFound, "the VM was removed") }
        var workerLogger = logger
        workerLogger[metadataKey: "vm"] = "\(vm.record.name)"
        let client = try await QMPClient.connect(socketPath: paths(vm).qmpSocket, logger: workerLogger)
        let hub = makeIntegrationHub(vm, logger: workerLogger)
        let events = client.events()
        // What the worker and the guest report later is the VM's own doing, not the user's who started it.
        let watcher = RequestUser.$name.withValue(nil) {
            Task { [weak self] in
                for await event in events {
                    await self?.handle(event, id: id)
                }
                if !Task.isCancelled { await self?.workerExited(id: id) }
            }
        }
        vms[id]?.worker = Worker(client: client, pid: pid, hub: hub, watcher: watcher)
        RequestUser.$name.withValue(nil) { hub.start() }
        vms[id]?.stateAfterExit = .off
        vms[id]?.exitExpected = false
        return client
    }

    /// Follows QEMU's events: the VM's state is what QEMU says, not a guess.
    func handle(_ event: QMPEvent, id: String) {
        guard let vm = vms[id] else { return }
        switch event.name {
        case "STOP": vm.worker?.hub.guestPaused(true)
        case "RESUME": vm.worker?.hub.guestPaused(false)
        default: break
        }
        switch (event.name, vm.record.state) {
        case ("STOP", .running):
            setState(id, .paused)
        case ("RESUME", .paused):
            setState(id, .running)
            resynchronizeClock(id: id)
        case ("RESUME", _):
            resynchronizeClock(id: id)
        case ("VSERPORT_CHANGE", _):
            if let device = event.data["id"]?.stringValue, let open = event.data["open"]?.boolValue {
                vm.worker?.hub.guestPortChanged(device: device, open: open)
            }
        case ("SHUTDOWN", let state):
            if state == .running || state == .paused {
                setState(id, .stopping)
                vms[id]?.exitExpected = true
                if event.data["guest"]?.boolValue ?? false {
                    events.record(.information, .worker, vm: vm.record.name, "the guest in VM '\(vm.record.name)' shut down")
                }
            }
            // Not asked for by viridiand's `quit`: the worker waits (-no-shutdown) for viridiand to end it.
            if event.data["reason"]?.stringValue != "host-qmp-quit", let client = vm.worker?.client { endShutDownWorker(id: id, client: client) }
        default:
            break
        }
    }

    /// The worker's monitor closed: QEMU exited. Idempotent.
    func workerExited(id: String) async {
        guard var vm = vms[id], let worker = vm.worker else { return }
        worker.hub.stop()
        worker.client.close()
        vm.worker = nil
        vms[id] = vm
        WorkerLauncher.cleanUp(paths(vm))
        changeTrackingEnded(vm)
        await releasePorts(id)
        let wasExpected = vm.exitExpected || vm.record.state == .stopping || vm.record.state == .saving
        setState(id, vm.stateAfterExit)
        if vm.stateAfterExit == .off { compactVacatedDrives(id) }
        if !wasExpected {
            events.record(.error, .worker, vm: vm.record.name, "the worker process of VM '\(vm.record.name)' exited unexpectedly")
        } else if vm.stateAfterExit == .off {
            events.record(.information, .worker, vm: vm.record.name, "VM '\(vm.record.name)' is Off")
        }
    }

    /// An Off VM's drives removed while it ran (`DriveKind.vacated`) go, as no device needs their
    /// positions any more; while checkpoints hold configurations by position they stay.
    private func compactVacatedDrives(_ id: String) {
        guard var vm = vms[id], vm.record.configuration.drives.contains(where: { $0.kind == .vacated }) else { return }
        do {
            guard try inventory.checkpoints(vmID: id).isEmpty else { return }
        } catch {
            logger.warning("cannot read the VM's checkpoints; its vacated drive entries stay", metadata: ["vm": "\(vm.record.name)", "error": "\(error)"])
            return
        }
        vm.record.configuration.drives.removeAll { $0.kind == .vacated }
        vms[id] = vm
        store(vm.record)
    }

    /// Ends a worker that failed to become a running VM.
    func discardWorker(id: String) async {
        guard let vm = vms[id] else { return }
        vms[id]?.exitExpected = true
        if let worker = vm.worker {
            worker.hub.stop()
            try? await worker.client.quit()
            _ = await Self.waitForExit(worker.client, timeout: .seconds(5))
            worker.watcher.cancel()
            worker.client.close()
        }
        WorkerLauncher.killWorker(paths(vm))
        vms[id]?.worker = nil
        WorkerLauncher.cleanUp(paths(vm))
        await releasePorts(id)
    }

    /// True when the worker's monitor closed within `timeout`.
    static func waitForExit(_ client: QMPClient, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in client.events() {}
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// At daemon start: re-attach to every worker still running. A pid file counts only when its
    /// process is that VM's QEMU (`WorkerLauncher.runningWorker`), so a pid recycled after a reboot
    /// is never signalled. A VM whose worker is gone, or cannot be driven, ends Off with the reason
    /// in the event log, and startable. When the host restarted (`hostRestarted`), the VM was
    /// running as the host went down, so its automatic start action (StartIfRunning) brings it back;
    /// a worker that merely exited on its own is not restarted, as a crash while viridiand runs is not.
    public func reattachWorkers(hostRestarted: Bool) async {
        for vm in vms.values where vm.record.state.hasWorker {
            let id = vm.record.id
            let name = vm.record.name
            guard let pid = WorkerLauncher.runningWorker(paths(vm)) else {
                lostWorker(id, hostRestarted: hostRestarted, hostRestarted
                    ? "the host restarted while VM '\(name)' was running; the VM is Off"
                    : "the worker of VM '\(name)' exited while viridiand was not running; the VM is Off")
                continue
            }
            do {
                _ = try await connectPorts(vm.record, adopt: true)
                let client = try await attachWorker(id: id, pid: pid)
                let status = try await client.queryStatus()
                setState(id, status.running ? .running : .paused)
                if let vm = vms[id] { await changeTracking(vm).removeInterruptedBackup(client) }
                if status.status == "shutdown" {
                    // The guest shut down while viridiand was away; its worker waited to be ended.
                    setState(id, .stopping)
                    vms[id]?.exitExpected = true
                    endShutDownWorker(id: id, client: client)
                }
                if vms[id]?.record.configuration.machineType == nil {
                    try recordMachineType(try await client.machineType(), id: id)
                }
                events.record(.information, .vmms, vm: name, "re-attached to the running worker of VM '\(name)' (pid \(pid))")
            } catch {
                // A worker viridiand cannot drive must not run on beside a later start of the same VM.
                await discardWorker(id: id)
                lostWorker(id, hostRestarted: false, "cannot re-attach to the worker of VM '\(name)' (pid \(pid)): \(ViridianError.wrapping(error).message); "
                           + "the worker was ended and the VM is Off")
            }
        }
    }

    /// Marks a VM whose worker is lost as Off — or Saved when a complete saved state is there (a
    /// save that finished, a restore that had not) — and, after a host restart, as running when the
    /// host stopped; records `message`.
    private func lostWorker(_ id: String, hostRestarted: Bool, _ message: String) {
        guard var vm = vms[id] else { return }
        if hostRestarted { vm.record.runningWhenHostStopped = true }
        vms[id] = vm
        WorkerLauncher.cleanUp(paths(vm))
        let saved = FileManager.default.fileExists(atPath: paths(vm).savedState)
        setState(id, saved ? .saved : .off)
        events.record(.warning, .vmms, vm: vm.record.name, saved ? message.replacingOccurrences(of: "the VM is Off", with: "the VM is Saved") : message)
    }

    /// Lets go of every worker without stopping it (daemon shutdown); the VMs keep running.
    public func detachAll() {
        for (id, vm) in vms {
            guard let worker = vm.worker else { continue }
            worker.hub.stop()
            worker.watcher.cancel()
            worker.client.close()
            vms[id]?.worker = nil
        }
    }
}
