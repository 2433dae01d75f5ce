import APITypes
import Inventory
import QMP

/// What a storage move (Move-VMStorage) needs from the VM host.
package protocol StorageMoveHost: Sendable {
    /// Checks that the VM's disks can move now.
    func checkStorageMovable(_ name: String) async throws -> VMInfo
    /// Holds the VM for a storage move (job `jobID`); returns its record and, when it runs, its monitor.
    func beginStorageMove(_ name: String, jobID: String) async throws -> (VMRecord, QMPClient?)
    /// Ends a storage move: with `newPaths`, the VM's disks are those files from now on.
    func endStorageMove(_ id: String, newPaths: [Int: String]?) async
    /// The folder of the VM's checkpoint overlays.
    func checkpointFolder(ofVM id: String) async -> String
    /// Records, in one step, that the disk under the VM's checkpoint tree at `from` is the flat
    /// image `to` now: the overlays `dependents` name it as their parent, and the checkpoints that
    /// held `from` hold it.
    func recordTreeMoved(_ id: String, from: String, to: DiskImage, dependents: [String]) async throws
}
