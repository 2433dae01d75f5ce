import APITypes
import Backup
import Engine
import Foundation
import QMP

/// The VM host's part in change tracking (`ChangeTracking`): set up before a worker's processors
/// run, saved before viridiand ends a worker, settled when a worker exits.
extension VMManager {
    func changeTracking(_ vm: ManagedVM) -> ChangeTracking {
        ChangeTracking(folder: paths(vm).changeTrackingDirectory, tool: catalog.tool, logger: logger)
    }

    /// The VM's hard disks with their sizes; empty (with a log line) when they cannot be read.
    func trackedDisks(_ vm: ManagedVM) async -> [TrackedDisk] {
        do {
            return try await TrackedDisk.load(try diskChains(vm.record.configuration), checkpointFolder: paths(vm).checkpointDirectory, tool: catalog.tool)
        } catch {
            logger.warning("cannot read the disks for change tracking", metadata: ["vm": "\(vm.record.name)", "error": "\(error)"])
            return []
        }
    }

    /// Before the worker's processors run.
    func armChangeTracking(id: String, client: QMPClient) async {
        guard let vm = vms[id] else { return }
        await changeTracking(vm).arm(client, disks: await trackedDisks(vm))
    }

    /// Before viridiand ends the worker (a turn-off, a save, a guest that shut down).
    func saveChangeTracking(id: String, client: QMPClient) async {
        guard let vm = vms[id], let disks = recordedDisks(vm) else { return }
        await changeTracking(vm).save(client, disks: disks)
    }

    /// After the worker exited.
    func changeTrackingEnded(_ vm: ManagedVM) {
        guard let disks = recordedDisks(vm) else { return }
        changeTracking(vm).workerEnded(disks: disks)
    }

    /// The VM's hard disks as the inventory records them, without reading their sizes (saving and
    /// settling the bits do not need them); nil, with the bits marked lost, when they cannot be read.
    private func recordedDisks(_ vm: ManagedVM) -> [TrackedDisk]? {
        do {
            return try diskChains(vm.record.configuration).sorted { $0.key < $1.key }.map {
                TrackedDisk(index: $0.key, chain: $0.value, checkpointFolder: paths(vm).checkpointDirectory, sizeBytes: 0)
            }
        } catch {
            changeTracking(vm).invalidate("the VM's disks could not be read as its worker ended: \(ViridianError.wrapping(error).message)")
            return nil
        }
    }

    /// A worker whose guest shut down waits (`-no-shutdown`): its change tracking is saved, then it is ended.
    func endShutDownWorker(id: String, client: QMPClient) {
        Task {
            await saveChangeTracking(id: id, client: client)
            do {
                try await client.quit()
            } catch {
                logger.warning("ending a worker whose guest shut down failed", metadata: ["vm": "\(vms[id]?.record.name ?? id)", "error": "\(error)"])
            }
        }
    }
}
