import APITypes
import Engine
import IntegrationServices
import Inventory
import QMP
import Storage

/// A VM as a backup operation holds it: its record, folders, disks, and its worker's monitor and
/// integration services while one runs.
package struct BackupSubject: Sendable {
    package var record: VMRecord
    package var paths: WorkerPaths
    package var client: QMPClient?
    package var hub: IntegrationHub?
    /// The recorded chain of each hard disk, by drive index.
    package var chains: [Int: [DiskImage]]

    package init(record: VMRecord, paths: WorkerPaths, client: QMPClient?, hub: IntegrationHub?, chains: [Int: [DiskImage]]) {
        self.record = record
        self.paths = paths
        self.client = client
        self.hub = hub
        self.chains = chains
    }
}

/// What backups need from the VM host. A backup or a restore over a VM holds the VM's turn from
/// `beginBackupOperation` to `endBackupOperation`, so no start, stop, move or checkpoint runs meanwhile.
package protocol BackupHost: Sendable {
    /// Holds the VM for `kind` (with its job) and returns it as it is now.
    func beginBackupOperation(_ name: String, _ kind: VMOperation.Kind, jobID: String?) async throws -> BackupSubject
    /// Gives the VM's turn back.
    func endBackupOperation(_ id: String) async
    /// Registers the VM an export folder holds as a new VM named `name` (as `vm import`).
    func importRestored(folder: String, name: String) async throws -> VMInfo
    /// Whether a VM named `name` exists here.
    func hasVM(named name: String) async -> Bool
}

extension TrackedDisk {
    /// The hard disks of `chains` with their sizes, in drive order.
    package static func load(_ chains: [Int: [DiskImage]], checkpointFolder: String, tool: DiskImageTool) async throws -> [TrackedDisk] {
        var disks: [TrackedDisk] = []
        for (index, chain) in chains.sorted(by: { $0.key < $1.key }) {
            guard let top = chain.first else { continue }
            let size = try await tool.info(top).sizeBytes
            disks.append(TrackedDisk(index: index, chain: chain, checkpointFolder: checkpointFolder, sizeBytes: Int64(size)))
        }
        return disks
    }
}
