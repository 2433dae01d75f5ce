import APITypes
import Foundation
import HostServices
import Logging
import Storage

/// Backups of VMs into repositories (Hyper-V's backup through VSS, with Viridian's own repository):
/// full and incremental points of every disk format, taken while the guest runs (copy-before-write,
/// the guest's file systems frozen only for the instant) or while the VM is Off; restored as a new
/// VM or over the original; verified against checksums; pruned without losing a restorable point.
/// Incrementals come from the VM's change tracking (`ChangeTracking`), which survives clean stops,
/// daemon restarts and host reboots; when it cannot vouch for every write, the backup is full and says why.
package struct BackupService: Sendable {
    let host: any BackupHost
    let catalog: DiskCatalog
    let jobs: JobManager
    let events: EventLog
    let logger: Logger
    /// Where storage daemons for Off VMs keep their sockets.
    let runtimeDirectory: String
    /// Where a VM restored as a new VM gets its folder of disks.
    let restoreDirectory: String
    /// Where NBD exports keep their scratch files and TLS keys (group `viridian`).
    let exportDirectory: String
    let exports = PullExports()

    package init(host: any BackupHost, catalog: DiskCatalog, jobs: JobManager, events: EventLog, logger: Logger, runtimeDirectory: String,
                 restoreDirectory: String, exportDirectory: String) {
        self.host = host
        self.catalog = catalog
        self.jobs = jobs
        self.events = events
        self.logger = logger
        self.runtimeDirectory = runtimeDirectory
        self.restoreDirectory = restoreDirectory
        self.exportDirectory = exportDirectory
    }

    /// Every point of every chain in the repository at `path` (or of one VM), oldest first per VM.
    package func list(_ path: String, vm: String? = nil) throws -> [BackupPointInfo] {
        let repository = try BackupRepository(path: path, create: false)
        var points: [BackupPointInfo] = []
        for chain in try repository.chains() where vm == nil || chain.vmName.lowercased() == vm?.lowercased() {
            for point in chain.restorable {
                points.append(BackupPointInfo(vm: chain.vmName, vmID: chain.vmID, point: point.name, kind: point.kind,
                                              createdAt: point.createdAt, bytes: point.disks.reduce(0) { $0 + $1.bytes },
                                              applicationConsistent: point.applicationConsistent, note: point.note))
            }
        }
        return points
    }

    /// Runs `body` as a job; a failure is also an error event, `failure` saying what failed.
    func job(kind: String, vm: String, description: String, failure: String,
             _ body: @escaping @Sendable (JobProgress) async throws -> String) -> JobInfo {
        jobs.start(kind: kind, vm: vm, description: description) { progress in
            do {
                return try await body(progress)
            } catch {
                events.record(.error, .backup, vm: vm, "\(failure) failed: \(ViridianError.wrapping(error).message)")
                throw error
            }
        }
    }

    /// The chain of the VM named `vm` in `repository`.
    /// - Throws: `notFound` naming the way to list what the repository holds.
    func requireChain(_ repository: BackupRepository, vm: String) throws -> BackupChain {
        try NameRule.validate(vm, what: "VM name")
        guard let chain = try repository.chain(ofVM: vm), !chain.restorable.isEmpty else {
            throw ViridianError(.notFound, "\(repository.root) holds no backup of a VM named '\(vm)' (see: viridian backup list \(repository.root))")
        }
        return chain
    }

    /// The file each disk of `point` reads through: its own, then its parents' in the points before it.
    static func files(of disk: BackupDisk, upTo point: BackupPoint, in chain: BackupChain, repository: BackupRepository) throws -> [String] {
        guard let position = chain.points.firstIndex(where: { $0.name == point.name }) else { return [] }
        var files: [String] = []
        for candidate in chain.points[...position].reversed() {
            guard let part = candidate.disks.first(where: { $0.index == disk.index }) else {
                throw ViridianError(.invalidState, "point \(candidate.name) of VM '\(chain.vmName)' lacks disk \(disk.index)")
            }
            files.append(repository.path(of: part, in: candidate, vm: chain.vmName))
            if candidate.kind == .full { return files }
        }
        throw ViridianError(.invalidState, "the chain of VM '\(chain.vmName)' has no full point under \(point.name)")
    }
}
