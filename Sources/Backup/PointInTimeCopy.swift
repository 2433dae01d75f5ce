import Foundation
import QMP

/// The block-layer part of a backup, in a running VM's worker or a storage daemon: each disk's
/// content at one instant copied into its qcow2 file of the repository by `blockdev-backup` jobs
/// started in one transaction. Guest writes during the copy first copy the old block out, so a
/// running guest is not paused; with `quiesce`, its file systems are frozen only around the
/// transaction.
struct PointInTimeCopy: Sendable {
    /// One disk's part.
    struct Disk: Sendable {
        var index: Int
        /// The node whose content is copied.
        var source: String
        /// The repository file written.
        var target: String
        /// The earlier points' files of this disk, newest first: the target's parents, opened read-only.
        var parents: [String]
        /// The bitmap on `source` whose blocks are copied (incremental); nil copies every block.
        var bitmap: String?
        /// A bitmap on `source` that a full copy synchronises (emptied, on success, to what was written since the instant).
        var resetBitmap: String?
    }

    let client: QMPClient

    /// Runs the copies to their end. `quiesce` runs just before the instant (true: the guest froze)
    /// and `resume` just after. Nodes and jobs are gone from the worker however it ends. Returns how
    /// long the guest was frozen, when it was.
    func run(_ disks: [Disk], quiesce: () async -> Bool, resume: () async -> Void,
             progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> Duration? {
        var added: [String] = []
        var started = false
        let jobs = disks.map { QMPClient.BackupJob(jobID: "backup\($0.index)", source: $0.source, target: "bkt\($0.index)",
                                                   bitmap: $0.bitmap, resetBitmap: $0.resetBitmap) }
        do {
            for disk in disks {
                try await client.blockdevAdd(Self.targetDefinition(disk, node: "bkt\(disk.index)"))
                added.append("bkt\(disk.index)")
            }
            let frozenAt = ContinuousClock.now
            let frozen = await quiesce()
            do {
                try await client.startBackups(jobs)
                started = true
            } catch {
                await resume()
                throw error
            }
            await resume()
            let window = frozen ? ContinuousClock.now - frozenAt : nil
            _ = try await client.waitForBlockJobs(Set(jobs.map(\.jobID)), interval: .milliseconds(20), observe: { states in
                progress(states.reduce(0) { $0 + $1.offset }, states.reduce(0) { $0 + $1.length })
            }) { states in states.count == jobs.count && states.allSatisfy { $0.status == "concluded" } }
            for job in jobs { try await client.jobDismiss(job.jobID) }
            for node in added { try await client.blockdevDel(nodeName: node) }
            return window
        } catch {
            let client = client
            await Task {
                if started {
                    for job in jobs { try? await client.blockJobCancel(job.jobID, force: true) }
                    _ = try? await client.waitForBlockJobs(Set(jobs.map(\.jobID)), timeout: .seconds(30)) { states in
                        states.allSatisfy { $0.status == "concluded" || $0.status == "null" }
                    }
                    for job in jobs { try? await client.jobDismiss(job.jobID) }
                }
                for node in added { try? await client.blockdevDel(nodeName: node) }
            }.value
            throw error
        }
    }

    /// The target's node: its file, and its parents read-only (so a block the guest zeroed is
    /// written as zero over them, never left to read through), every format stated. It is opened
    /// without flushes: QEMU would otherwise flush the file to disk at each metadata update, in the
    /// middle of the copy (a third of its time here); the point is flushed once, when it is sealed (`PointFile`).
    static func targetDefinition(_ disk: Disk, node: String) -> [String: JSONValue] {
        var backing: JSONValue = .null
        for parent in disk.parents.reversed() {
            backing = .object(["driver": "qcow2", "read-only": true,
                               "file": .object(["driver": "file", "filename": .string(parent)]), "backing": backing])
        }
        return ["driver": "qcow2", "node-name": .string(node), "file": .object(["driver": "file", "filename": .string(disk.target)]),
                "backing": backing, "cache": .object(["no-flush": true])]
    }
}
