import APITypes
import Engine
import Foundation
import HostServices
import QMP

extension VMManager {
    /// How long `stop` waits for a graceful shutdown before it turns the VM off.
    static let defaultStopTimeout = 60
    /// How long a restore from saved state may take.
    static let restoreTimeout = Duration.seconds(300)

    /// Starts an Off VM, or restores a Saved one (Start-VM). A job; done when the guest runs.
    public func start(_ name: String) throws -> JobInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        try requireHostNotStopping()
        try requireOwned(vm)
        let previous = vm.record.state
        guard previous == .off || previous == .saved else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(previous.rawValue); only an Off or Saved VM can start")
        }
        try validateFiles(vm.record.configuration, excluding: vm.record.id)
        try requireDisksFree(vm)
        try requireMemory(vm.record.configuration.memoryMiB, for: vm.record.name)
        let id = vm.record.id
        _ = try fixMachineType(id: id, savedState: previous == .saved ? paths(vm).savedState : nil)
        _ = try diskChains(vm.record.configuration)
        let restoring = previous == .saved
        let job = try startOperationJob(restoring ? .restoring : .starting, vm, jobKind: "vm.start",
                                        description: restoring ? "Restoring \(vm.record.name)" : "Starting \(vm.record.name)") { progress in
            try await self.runStart(id: id, restoring: restoring, progress: progress)
        }
        vms[id]?.record.runningWhenHostStopped = false
        setState(id, .starting)
        return job
    }

    private func runStart(id: String, restoring: Bool, progress: JobProgress) async throws -> String {
        guard let vm = vms[id] else { throw ViridianError(.notFound, "the VM was removed") }
        let paths = paths(vm)
        let previous: VMState = restoring ? .saved : .off
        do {
            progress.report(10, "launching the QEMU worker")
            let firmware = vm.record.configuration.generation == .two
                ? try Firmware.uefi(secureBoot: vm.record.configuration.secureBoot) : nil
            progress.report(8, "connecting the network adapters")
            let taps = try await connectPorts(vm.record)
            let keyFile = try shieldingKeyFile(vm.record)
            let commandLine = try QEMUCommandLine(name: vm.record.name, id: id, configuration: vm.record.configuration,
                                                  accelerator: accelerator, paths: paths, firmware: firmware, incoming: restoring,
                                                  taps: taps, diskChains: try diskChains(vm.record.configuration), shieldingKeyFile: keyFile)
            let pid = try await launcher.launch(commandLine)
            let client = try await attachWorker(id: id, pid: pid)
            if restoring {
                progress.report(30, "loading the saved state")
                try await restore(client: client, from: paths.savedState, keyFile: keyFile, progress: progress)
                try? FileManager.default.removeItem(atPath: paths.savedState)
            }
            try Task.checkCancellation()
            await armChangeTracking(id: id, client: client)
            if try await !client.queryStatus().running { try await client.cont() }
            let status = try await client.queryStatus()
            setState(id, status.running ? .running : .paused)
            events.record(.information, .worker, vm: vm.record.name,
                          restoring ? "VM '\(vm.record.name)' was restored from its saved state"
                                    : "VM '\(vm.record.name)' started (pid \(pid), \(accelerator.rawValue))")
            return restoring ? "restored from saved state" : "running"
        } catch {
            await discardWorker(id: id)
            setState(id, previous)
            let reason = ViridianError.wrapping(error)
            events.record(.error, .worker, vm: vm.record.name, "VM '\(vm.record.name)' failed to start: \(reason.message)")
            throw error
        }
    }

    private func restore(client: QMPClient, from file: String, keyFile: String?, progress: JobProgress) async throws {
        try await client.migrateIncoming(uri: SavedStateURI.restore(from: file, qemuVersion: launcher.qemu.version, keyFile: keyFile))
        let deadline = ContinuousClock.now + Self.restoreTimeout
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            let status = try await client.queryStatus()
            if status.status != "inmigrate" { return }
            let migration = try await client.queryMigrate()
            if migration.status == "failed" {
                throw ViridianError(.engineFailure, "the saved state could not be loaded: \(migration.errorDescription ?? "unknown error")")
            }
            progress.report(30 + migration.percent * 6 / 10)
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ViridianError(.timeout, "loading the saved state took longer than \(Self.restoreTimeout)")
    }

    /// Shuts a VM down (Stop-VM) through `StopChain`: the shutdown service, then the ACPI power
    /// button, and after `timeoutSeconds` turns it off; with `turnOff`, turns it off at once. The
    /// job's message and the event log say which steps were tried and which one worked.
    public func stop(_ name: String, _ request: StopVMRequest) throws -> JobInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        guard vm.record.state == .running || vm.record.state == .paused, let worker = vm.worker else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); only a Running or Paused VM can stop")
        }
        let timeout = request.timeoutSeconds ?? Self.defaultStopTimeout
        guard (0...3600).contains(timeout) else {
            throw ViridianError(.invalidArgument, "the stop timeout must be 0 to 3600 seconds")
        }
        let id = vm.record.id
        let previous = vm.record.state
        let job = try startOperationJob(.stopping, vm, jobKind: "vm.stop", description: "Stopping \(vm.record.name)") { progress in
            if request.turnOff || previous == .paused {
                return try await self.turnOff(id: id, client: worker.client, progress: progress,
                                              reason: request.turnOff ? "turned off" : "turned off (it was paused)")
            }
            return try await self.shutDown(id: id, worker: worker, timeout: .seconds(timeout), previous: previous,
                                           reason: "viridian vm stop", progress: progress)
        }
        setState(id, .stopping)
        return job
    }

    /// Runs the stop chain on a running worker; turns the VM off when the guest stays up.
    func shutDown(id: String, worker: Worker, timeout: Duration, previous: VMState, reason: String,
                  progress: JobProgress) async throws -> String {
        let name = vms[id]?.record.name ?? id
        let guest = WorkerShutdown(worker: worker, reason: reason)
        progress.report(5, "asking the guest's shutdown service")
        let events = events
        let outcome = await StopChain(timeout: timeout).run(guest) { step in
            progress.report(20, step)
            events.record(.information, .worker, vm: name, "stopping VM '\(name)': \(step)")
        }
        switch outcome {
        case .shutDown(let path):
            await workerExited(id: id)
            return "shut down by the guest (asked through \(path))"
        case .timedOut(let tried):
            if Task.isCancelled {
                revertStopping(id: id, to: previous)
                throw CancellationError()
            }
            return try await turnOff(id: id, client: worker.client, progress: progress,
                                     reason: "turned off after the guest did not shut down within \(StopChain.seconds(timeout)) s (tried \(tried))")
        }
    }

    func turnOff(id: String, client: QMPClient, progress: JobProgress, reason: String, changeTrackingSaved: Bool = false) async throws -> String {
        progress.report(80, "turning the VM off")
        vms[id]?.exitExpected = true
        if !changeTrackingSaved { await saveChangeTracking(id: id, client: client) }
        try? await client.quit()
        if !(await Self.waitForExit(client, timeout: .seconds(10))), let pid = vms[id]?.worker?.pid {
            kill(pid, SIGKILL)
            _ = await Self.waitForExit(client, timeout: .seconds(10))
        }
        await workerExited(id: id)
        return reason
    }

    private func revertStopping(id: String, to state: VMState) {
        if vms[id]?.record.state == .stopping { setState(id, state) }
    }

    /// Saves a running or paused VM's memory to a file and turns it off (Save-VM).
    /// The next start restores it. Cancelling the job leaves the VM running.
    public func save(_ name: String) throws -> JobInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        guard vm.record.state == .running || vm.record.state == .paused, let worker = vm.worker else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); only a Running or Paused VM can be saved")
        }
        let id = vm.record.id
        let previous = vm.record.state
        let target = paths(vm).savedState
        let job = try startOperationJob(.saving, vm, jobKind: "vm.save", description: "Saving \(vm.record.name)") { progress in
            try await self.runSave(id: id, name: name, worker: worker, previous: previous, target: target, progress: progress)
        }
        setState(id, .saving)
        return job
    }

    /// Writes the memory state to `target` and ends the worker; on failure the VM runs on as before.
    func runSave(id: String, name: String, worker: Worker, previous: VMState, target: String,
                 progress: JobProgress) async throws -> String {
            let partial = target + ".partial"
            do {
                // The guest is paused for the copy, so its change tracking can be saved first: at the
                // copy's end QEMU stores the tracking files and lets go of the disks.
                if previous == .running { try await worker.client.stop() }
                await saveChangeTracking(id: id, client: worker.client)
                try await Self.writeState(client: worker.client, to: partial, qemuVersion: launcher.qemu.version,
                                          keyFile: try shieldingKeyFile(vms[id]?.record), progress: progress)
            } catch {
                try? await worker.client.migrateCancel()
                if previous == .running, (try? await worker.client.queryStatus())?.running == false {
                    try? await worker.client.cont()
                }
                try? FileManager.default.removeItem(atPath: partial)
                revertSaving(id: id, to: previous)
                throw error
            }
            guard rename(partial, target) == 0 else {
                throw ViridianError(.internalError, "cannot move the saved state into place: errno \(errno)")
            }
            markSaved(id: id)
            progress.report(95, "ending the worker")
            _ = try await turnOff(id: id, client: worker.client, progress: progress, reason: "", changeTrackingSaved: true)
            events.record(.information, .worker, vm: name, "VM '\(name)' was saved")
            return "saved"
    }

    static func writeState(client: QMPClient, to file: String, qemuVersion: String, keyFile: String? = nil,
                           progress: JobProgress) async throws {
        try await client.migrate(uri: SavedStateURI.save(to: file, qemuVersion: qemuVersion, keyFile: keyFile))
        while true {
            try Task.checkCancellation()
            let info = try await client.queryMigrate()
            switch info.status {
            case "completed": return
            case "failed", "cancelled":
                throw ViridianError(.engineFailure, "saving the memory state failed: \(info.errorDescription ?? info.status)")
            default:
                progress.report(info.percent * 9 / 10, "writing memory (\(info.transferredBytes >> 20) MiB)")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private func markSaved(id: String) {
        vms[id]?.stateAfterExit = .saved
    }

    private func revertSaving(id: String, to state: VMState) {
        if vms[id]?.record.state == .saving { setState(id, state) }
    }

    /// Pauses a running VM's processors (Suspend-VM).
    public func pause(_ name: String) async throws -> VMInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        guard vm.record.state == .running, let worker = vm.worker else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); only a Running VM can be paused")
        }
        try await withOperation(.pausing, vm) {
            try await worker.client.stop()
            await settleFromEngine(vm.record.id, worker: worker)
        }
        return try lookup(name).info
    }

    /// Resumes a paused VM (Resume-VM).
    public func resume(_ name: String) async throws -> VMInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        guard vm.record.state == .paused, let worker = vm.worker else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); only a Paused VM can be resumed")
        }
        try requireOwned(vm)
        try await withOperation(.resuming, vm) {
            try await worker.client.cont()
            await settleFromEngine(vm.record.id, worker: worker)
        }
        return try lookup(name).info
    }

    /// Resets a running VM, as the reset button does (Restart-VM).
    public func restart(_ name: String) async throws -> VMInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        guard vm.record.state == .running || vm.record.state == .paused, let worker = vm.worker else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); only a Running VM can restart")
        }
        try await withOperation(.restarting, vm) {
            try await worker.client.systemReset()
            if vm.record.state == .paused { try await worker.client.cont() }
            await settleFromEngine(vm.record.id, worker: worker)
        }
        events.record(.information, .worker, vm: vm.record.name, "VM '\(vm.record.name)' was reset")
        return try lookup(name).info
    }

    /// Sets a Running or Paused VM's state from what its worker reports, when that worker still runs.
    /// A worker that cannot answer is exiting; its exit sets the state (`workerExited`).
    func settleFromEngine(_ id: String, worker: Worker) async {
        guard let status = try? await worker.client.queryStatus(timeout: .seconds(10)) else { return }
        guard let current = vms[id], current.worker?.pid == worker.pid,
              current.record.state == .running || current.record.state == .paused else { return }
        setState(id, status.running ? .running : .paused)
    }

    /// No hard disk of `vm` may be open in another VM's worker, nor a pass-through disk used by the host.
    private func requireDisksFree(_ vm: ManagedVM) throws {
        try requirePassThroughDisksFree(vm)
        for drive in vm.record.configuration.drives where drive.kind == .hardDisk {
            if let path = drive.path, let other = vmUsing(path: path, excluding: vm.record.id), other.record.state.hasWorker {
                throw ViridianError(.conflict, "\(path) is in use by the running VM '\(other.record.name)'")
            }
        }
    }
}
