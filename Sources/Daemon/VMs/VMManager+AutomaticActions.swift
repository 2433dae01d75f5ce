import APITypes
import Foundation
import HostServices

/// Hyper-V's automatic stop and start actions: what the host does with each VM when it shuts
/// down (`viridian host shutdown`, run by `viridian-guests.service` as the system stops) and
/// when viridiand starts again.
extension VMManager {
    /// How long a VM's running operation may take to end before the host shutdown acts anyway.
    static let shutdownOperationWait = Duration.seconds(120)
    /// How long a guest gets to shut down when its stop action is ShutDown.
    static let hostShutdownStopTimeout = Duration.seconds(60)

    /// Host shutdown: every VM with a worker gets its automatic stop action, several at once, and
    /// is marked as running when the host stopped. From now on VMs do not start on this host until
    /// viridiand restarts. Returns one line per VM.
    public func applyAutomaticStopActions(progress: JobProgress) async -> [String] {
        hostIsStopping = true
        let ids = vms.values.filter { $0.record.state.hasWorker }.map(\.record.id)
        guard !ids.isEmpty else { return [] }
        return await withTaskGroup(of: String.self) { group in
            for id in ids {
                group.addTask { await self.applyStopAction(id: id, progress: progress) }
            }
            var lines: [String] = []
            for await line in group {
                lines.append(line)
                progress.report(lines.count * 100 / ids.count, line)
            }
            return lines.sorted()
        }
    }

    private func applyStopAction(id: String, progress: JobProgress) async -> String {
        let name = vms[id]?.record.name ?? id
        await waitUntilIdle(id, timeout: Self.shutdownOperationWait)
        guard let vm = vms[id], let worker = vm.worker, vm.record.state == .running || vm.record.state == .paused else {
            return "\(name): \(vms[id]?.record.state.rawValue ?? "removed") already"
        }
        if let operation = vm.operation {
            events.record(.warning, .vmms, vm: name, "VM '\(name)' is still busy (\(operation)) as the host shuts down; applying its stop action anyway")
            vms[id]?.operation = nil
        }
        let action = vm.record.configuration.automaticActions.stopAction
        let previous = vm.record.state
        let part = progress.part(name)
        vms[id]?.record.runningWhenHostStopped = true
        vms[id]?.operation = VMOperation(.hostShutdown, jobID: progress.jobID)
        defer { endOperation(id) }
        do {
            let outcome: String
            switch action {
            case .save:
                setState(id, .saving)
                do {
                    outcome = try await runSave(id: id, name: name, worker: worker, previous: previous,
                                                target: paths(vm).savedState, progress: part)
                } catch {
                    events.record(.error, .vmms, vm: name, "VM '\(name)' could not be saved as the host shuts down (\(ViridianError.wrapping(error).message)); shutting it down instead")
                    setState(id, .stopping)
                    outcome = try await shutDown(id: id, worker: worker, timeout: Self.hostShutdownStopTimeout, previous: previous,
                                                 reason: "the host is shutting down", progress: part)
                }
            case .shutDown where previous == .running:
                setState(id, .stopping)
                outcome = try await shutDown(id: id, worker: worker, timeout: Self.hostShutdownStopTimeout, previous: previous,
                                             reason: "the host is shutting down", progress: part)
            case .shutDown, .turnOff:
                setState(id, .stopping)
                outcome = try await turnOff(id: id, client: worker.client, progress: part, reason: "turned off")
            }
            events.record(.information, .vmms, vm: name, "host shutdown: VM '\(name)' \(outcome) (automatic stop action \(action.rawValue))")
            return "\(name): \(outcome)"
        } catch {
            let reason = ViridianError.wrapping(error).message
            events.record(.error, .vmms, vm: name, "host shutdown: the automatic stop action of VM '\(name)' failed: \(reason)")
            return "\(name): failed: \(reason)"
        }
    }

    /// Waits until no operation holds the VM (or `timeout` passes).
    private func waitUntilIdle(_ id: String, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while vms[id]?.operation != nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// At daemon start, after re-attaching: starts the VMs whose automatic start action says so —
    /// StartIfRunning for VMs that were running when the host went down, Start for every VM once
    /// per host boot — each after its delay. Runs in the background; returns at once.
    public func applyAutomaticStartActions(firstStartSinceBoot: Bool) {
        for vm in vms.values where !vm.record.state.hasWorker {
            let actions = vm.record.configuration.automaticActions
            let wanted = switch actions.startAction {
            case .nothing: false
            case .startIfRunning: vm.record.runningWhenHostStopped
            case .start: firstStartSinceBoot || vm.record.runningWhenHostStopped
            }
            let id = vm.record.id
            guard wanted else {
                if vm.record.runningWhenHostStopped { clearRunningWhenHostStopped(id) }
                continue
            }
            let name = vm.record.name
            Task {
                if actions.startDelaySeconds > 0 { try? await Task.sleep(for: .seconds(actions.startDelaySeconds)) }
                self.automaticStart(id: id, name: name, action: actions.startAction)
            }
        }
    }

    private func automaticStart(id: String, name: String, action: AutomaticActions.StartAction) {
        guard let vm = vms[id], !vm.record.state.hasWorker else { return }
        do {
            let job = try start(vm.record.name)
            events.record(.information, .vmms, vm: name, "starting VM '\(name)' (automatic start action \(action.rawValue), job \(job.id.prefix(8)))")
        } catch {
            events.record(.error, .vmms, vm: name, "the automatic start of VM '\(name)' failed: \(ViridianError.wrapping(error).message)")
        }
    }

    private func clearRunningWhenHostStopped(_ id: String) {
        guard var vm = vms[id] else { return }
        vm.record.runningWhenHostStopped = false
        vms[id] = vm
        store(vm.record)
    }

    /// Refuses to start VMs while the host shuts down.
    func requireHostNotStopping() throws {
        if hostIsStopping {
            throw ViridianError(.invalidState, "this host is shutting down (viridian host shutdown); VMs start again when viridiand restarts")
        }
    }
}
