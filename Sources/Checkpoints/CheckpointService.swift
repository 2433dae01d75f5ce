import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import Storage

/// Checkpoints of VMs (Checkpoint-VM, Get-VMCheckpoint, Restore-VMCheckpoint, Remove-VMCheckpoint,
/// Rename-VMCheckpoint) on every disk format: a checkpoint freezes the images a VM's disks are on
/// and puts a qcow2 overlay over each (`blockdev-snapshot` on a running VM), so VHDX, VHD, qcow2
/// and raw disks are checkpointed alike; applying one puts new overlays over its images, keeping
/// every branch; removing one folds the images nothing needs any more into what depends on them.
package struct CheckpointService: Sendable {
    let host: any CheckpointHost
    let inventory: Inventory
    let catalog: DiskCatalog
    let jobs: JobManager
    let events: EventLog
    /// Where the host keeps its VMs (and its key store, for shielded VMs' disks).
    let stateDirectory: String

    package init(host: any CheckpointHost, inventory: Inventory, catalog: DiskCatalog, jobs: JobManager, events: EventLog,
                 stateDirectory: String) {
        self.stateDirectory = stateDirectory
        self.host = host
        self.inventory = inventory
        self.catalog = catalog
        self.jobs = jobs
        self.events = events
    }

    /// The disk tool for the VM's images: keyed with a shielded VM's key, so its overlays are made
    /// encrypted and its merges open the LUKS layers.
    func diskTool(_ vm: VMRecord) -> DiskImageTool {
        catalog.tool.encrypted(with: keyFile(vm))
    }

    /// A shielded VM's key file, nil for a VM that is not shielded.
    func keyFile(_ vm: VMRecord) -> String? {
        vm.configuration.shielded ? WorkerPaths(stateDirectory: stateDirectory, vmID: vm.id).shieldingKey : nil
    }

    /// The VM's checkpoint tree, oldest first (Get-VMCheckpoint).
    package func list(_ name: String) async throws -> [CheckpointInfo] {
        let vm = try await host.checkCheckpointable(name, busyAllowed: true)
        let current = try inventory.currentCheckpoint(vmID: vm.id)
        let records = try inventory.checkpoints(vmID: vm.id)
        let names = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.name) })
        return records.map { record in
            CheckpointInfo(id: record.id, name: record.name, parent: record.parentID.flatMap { names[$0] }, type: record.kind,
                           createdAt: record.createdAt, vmState: record.vmState, isCurrent: record.id == current)
        }
    }

    /// Renames a checkpoint (Rename-VMCheckpoint).
    package func rename(_ name: String, checkpoint: String, to newName: String) async throws -> CheckpointInfo {
        try NameRule.validate(newName, what: "checkpoint name", spaces: true)
        let subject = try await host.beginCheckpointOperation(name, .checkpointing, jobID: nil)
        do {
            var record = try find(checkpoint, of: subject.record)
            record.name = newName
            var change = CheckpointChange(vm: subject.record, current: try inventory.currentCheckpoint(vmID: subject.record.id))
            change.saved = [record]
            try await host.commit(change, state: nil)
            await host.endCheckpointOperation(subject.record.id)
            events.record(.information, .checkpoint, vm: subject.record.name, "checkpoint '\(checkpoint)' of VM '\(subject.record.name)' is now '\(newName)'")
        } catch {
            await host.endCheckpointOperation(subject.record.id)
            throw error
        }
        guard let renamed = try await list(name).first(where: { $0.name == newName }) else {
            throw ViridianError(.internalError, "the renamed checkpoint is gone")
        }
        return renamed
    }

    /// Runs `body` as a job that holds the VM's turn for `kind` however it ends; a failure is also an
    /// error event, `failure` saying what failed.
    func operationJob(_ name: String, _ kind: VMOperation.Kind, jobKind: String, description: String, failure: String,
                      _ body: @escaping @Sendable (CheckpointSubject, JobProgress) async throws -> String) -> JobInfo {
        jobs.start(kind: jobKind, vm: name, description: description) { progress in
            let subject = try await host.beginCheckpointOperation(name, kind, jobID: progress.jobID)
            do {
                let result = try await body(subject, progress)
                await host.endCheckpointOperation(subject.record.id)
                return result
            } catch {
                await host.endCheckpointOperation(subject.record.id)
                events.record(.error, .checkpoint, vm: subject.record.name,
                              "\(failure) of VM '\(subject.record.name)' failed: \(ViridianError.wrapping(error).message)")
                throw error
            }
        }
    }

    /// The checkpoint named `name` (or with that id) of `vm`. - Throws: `notFound` naming the way to list them.
    func find(_ name: String, of vm: VMRecord) throws -> CheckpointRecord {
        let records = try inventory.checkpoints(vmID: vm.id)
        guard let record = records.first(where: { $0.name.lowercased() == name.lowercased() }) ?? records.first(where: { $0.id == name }) else {
            throw ViridianError(.notFound, "VM '\(vm.name)' has no checkpoint '\(Quote.prefix(name))' (see: viridian vm checkpoint list \(vm.name))")
        }
        return record
    }
}
