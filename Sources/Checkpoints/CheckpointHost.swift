import APITypes
import Engine
import HostServices
import IntegrationServices
import Inventory
import QMP

/// A VM as a checkpoint operation holds it: its record, its folders, and its worker's monitor and
/// integration services while one runs.
package struct CheckpointSubject: Sendable {
    package var record: VMRecord
    package var paths: WorkerPaths
    package var client: QMPClient?
    package var hub: IntegrationHub?

    package init(record: VMRecord, paths: WorkerPaths, client: QMPClient?, hub: IntegrationHub?) {
        self.record = record
        self.paths = paths
        self.client = client
        self.hub = hub
    }

    /// The folder of the VM's checkpoint files: overlays and memory states.
    package var folder: String { paths.checkpointDirectory }
}

/// What checkpoints need from the VM host. The VM host keeps each VM's state machine: a checkpoint
/// operation holds the VM's turn from `beginCheckpointOperation` to `endCheckpointOperation`, and
/// every change of the VM's drives or state goes through `commit`, so that the host's view and the
/// inventory never differ.
package protocol CheckpointHost: Sendable {
    /// The VM's record, after checking, without changing anything, that it can take a checkpoint
    /// operation now (or, with `busyAllowed`, that it exists).
    func checkCheckpointable(_ name: String, busyAllowed: Bool) async throws -> VMRecord
    /// Holds the VM for a checkpoint operation (`kind`, with its job when it is one) and returns it as it is now.
    func beginCheckpointOperation(_ name: String, _ kind: VMOperation.Kind, jobID: String?) async throws -> CheckpointSubject
    /// Gives the VM's turn back.
    func endCheckpointOperation(_ id: String) async
    /// Stores `change` and makes the VM's configuration that of `change.vm` (and its state `state`, when given) in one step.
    func commit(_ change: CheckpointChange, state: VMState?) async throws
    /// Ends the VM's worker at once: applying a checkpoint discards the current state.
    func turnOffForCheckpoint(_ id: String, progress: JobProgress) async throws
    /// Every VM, as a checkpoint operation would see it (for settling after a restart).
    func checkpointSubjects() async -> [CheckpointSubject]
    /// Forgets what the VM's change tracking knows (the next backup reads everything): its disks now read as `reason` says.
    func discardChangeTracking(_ id: String, reason: String) async
    /// Writes the paused guest's memory and device state to `file`, as `vm save` does.
    func saveMemory(client: QMPClient, to file: String, keyFile: String?, progress: JobProgress) async throws
}
