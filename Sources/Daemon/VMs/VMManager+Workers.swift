import APITypes
import Engine
import Foundation
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
        let watcher = Task { [weak self] in
            for await event in events {
                await self?.handle(event, id: id)
            }
            if !Task.isCancelled { await self?.workerExited(id: id) }
        }
        vms[id]?.worker = Worker(client: client, pid: pid, hub: hub, watcher: watcher)
        hub.start()
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
        case ("SHUTDOWN", .running), ("SHUTDOWN", .paused):
            let byGuest = event.data["guest"]?.boolValue ?? false
            setState(id, .stopping)
            vms[id]?.exitExpected = true
            if byGuest { events.record(.information, .worker, vm: vm.record.name, "the guest in VM '\(vm.record.name)' shut down") }
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
        await releasePorts(id)
        let wasExpected = vm.exitExpected || vm.record.state == .stopping || vm.record.state == .saving
        setState(id, vm.stateAfterExit)
        if !wasExpected {
            events.record(.error, .worker, vm: vm.record.name, "the worker process of VM '\(vm.record.name)' exited unexpectedly")
        } else if vm.stateAfterExit == .off {
            events.record(.information, .worker, vm: vm.record.name, "VM '\(vm.record.name)' is Off")
        }
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
        if let pid = WorkerLauncher.readPID(paths(vm).pidFile) { kill(pid, SIGKILL) }
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

    /// At daemon start: re-attach to every worker still running, and mark the VMs whose worker
    /// died while the daemon was away as Off, with an event.
    public func reattachWorkers() async {
        for vm in vms.values where vm.record.state.hasWorker {
            let id = vm.record.id
            let name = vm.record.name
            guard let pid = WorkerLauncher.readPID(paths(vm).pidFile) else {
                setState(id, .off)
                WorkerLauncher.cleanUp(paths(vm))
                events.record(.warning, .vmms, vm: name,
                              "the worker of VM '\(name)' exited while viridiand was not running; the VM is Off")
                continue
            }
            do {
                _ = try await connectPorts(vm.record, adopt: true)
                let client = try await attachWorker(id: id, pid: pid)
                let status = try await client.queryStatus()
                setState(id, status.running ? .running : .paused)
                if vms[id]?.record.configuration.machineType == nil {
                    try recordMachineType(try await client.machineType(), id: id)
                }
                events.record(.information, .vmms, vm: name, "re-attached to the running worker of VM '\(name)' (pid \(pid))")
            } catch {
                events.record(.error, .vmms, vm: name, "cannot re-attach to the worker of VM '\(name)' (pid \(pid)): \(error)")
            }
        }
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
