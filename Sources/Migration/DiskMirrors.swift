import APITypes
import Foundation
import QMP

/// Mirrors of a running VM's disks into new targets (`blockdev-mirror sync=full`): local files
/// for a storage move, a destination's NBD exports for a move with storage. The guest keeps
/// writing; once every mirror is READY the copies stay in step until they are pivoted
/// (the VM then uses the targets) or finished without a pivot (the targets are complete copies).
package struct DiskMirrors: Sendable {
    package struct Mirror: Sendable {
        package let driveIndex: Int
        package let jobID: String
        package let sourceNode: String
        package let targetNode: String
    }

    package let client: QMPClient
    package let mirrors: [Mirror]

    /// Adds each target node and starts its mirror. Undoes what it started when one fails.
    package static func start(client: QMPClient, targets: [Int: [String: JSONValue]], prefix: String) async throws -> DiskMirrors {
        var started: [Mirror] = []
        do {
            for index in targets.keys.sorted() {
                guard var definition = targets[index] else { continue }
                let targetNode = "\(prefix)t\(index)"
                definition["node-name"] = .string(targetNode)
                let sourceNode = try await client.rootNode(ofDevice: "disk\(index)")
                try await client.blockdevAdd(definition)
                let mirror = Mirror(driveIndex: index, jobID: "\(prefix)m\(index)", sourceNode: sourceNode, targetNode: targetNode)
                do {
                    try await client.blockdevMirror(jobID: mirror.jobID, device: sourceNode, target: targetNode)
                } catch {
                    try? await client.blockdevDel(nodeName: targetNode)
                    throw error
                }
                started.append(mirror)
            }
        } catch {
            await DiskMirrors(client: client, mirrors: started).abandon()
            throw error
        }
        return DiskMirrors(client: client, mirrors: started)
    }

    /// Waits until every mirror is READY, reporting bytes copied and to copy.
    package func waitUntilReady(progress: @Sendable (Int64, Int64) -> Void) async throws {
        while true {
            try Task.checkCancellation()
            let jobs = try await ownJobs()
            progress(jobs.map(\.offset).reduce(0, +), jobs.map(\.length).reduce(0, +))
            if jobs.count == mirrors.count, jobs.allSatisfy(\.ready) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Switches the VM onto the targets (`block-job-complete`), then lets go of the old nodes.
    package func pivot() async throws {
        for mirror in mirrors { try await client.blockJobComplete(mirror.jobID) }
        try await waitUntilConcluded()
        for mirror in mirrors {
            try? await client.blockdevDel(nodeName: mirror.sourceNode)
            if mirror.sourceNode == "drive\(mirror.driveIndex)" { try? await client.blockdevDel(nodeName: "file\(mirror.driveIndex)") }
        }
    }

    /// Ends READY mirrors with their targets complete, leaving the VM on its own disks
    /// (`block-job-cancel` of a READY job), then detaches the targets.
    package func finishWithoutPivot() async throws {
        for mirror in mirrors { try await client.blockJobCancel(mirror.jobID) }
        try await waitUntilConcluded()
    }

    /// Detaches the target nodes (after `finishWithoutPivot`, or to give up).
    package func removeTargets() async {
        for mirror in mirrors { try? await client.blockdevDel(nodeName: mirror.targetNode) }
    }

    /// Gives up: cancels every mirror at once and detaches the targets; the VM stays on its disks.
    package func abandon() async {
        for mirror in mirrors { try? await client.blockJobCancel(mirror.jobID, force: true) }
        try? await waitUntilConcluded(timeout: .seconds(30))
        await removeTargets()
    }

    private func ownJobs() async throws -> [QMPBlockJob] {
        let ids = Set(mirrors.map(\.jobID))
        let jobs = try await client.queryBlockJobs().filter { ids.contains($0.id) }
        if let failed = jobs.first(where: { $0.error != nil }) {
            throw ViridianError(.engineFailure, "copying a disk failed: \(failed.error ?? "")")
        }
        return jobs
    }

    /// Waits until every job has concluded, then dismisses them. - Throws: the first job's error.
    private func waitUntilConcluded(timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        var failure: String?
        while ContinuousClock.now < deadline {
            let ids = Set(mirrors.map(\.jobID))
            let jobs = try await client.queryBlockJobs().filter { ids.contains($0.id) }
            if jobs.allSatisfy({ $0.status == "concluded" }) {
                failure = jobs.compactMap(\.error).first
                for job in jobs { try? await client.jobDismiss(job.id) }
                if let failure { throw ViridianError(.engineFailure, "copying a disk failed: \(failure)") }
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ViridianError(.timeout, "the disk copies did not finish within \(timeout)")
    }
}
