/// Mirrors of a running VM's disks into new targets (`blockdev-mirror sync=full`): local files
/// for a storage move, a destination's NBD exports for a move with storage. The guest keeps
/// writing; once every mirror is READY the copies stay in step until they are pivoted
/// (the VM then uses the targets) or finished without a pivot (the targets are complete copies).
public struct DiskMirrors: Sendable {
    public struct Mirror: Sendable {
        public let driveIndex: Int
        public let jobID: String
        public let sourceNode: String
        public let targetNode: String
    }

    public let client: QMPClient
    public let mirrors: [Mirror]

    /// Adds each target node and starts its mirror. Undoes what it started when one fails.
    public static func start(client: QMPClient, targets: [Int: [String: JSONValue]], prefix: String) async throws -> DiskMirrors {
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
    public func waitUntilReady(progress: @Sendable (Int64, Int64) -> Void) async throws {
        _ = try await client.waitForBlockJobs(jobIDs, observe: { jobs in
            progress(jobs.map(\.offset).reduce(0, +), jobs.map(\.length).reduce(0, +))
        }, until: { jobs in jobs.count == mirrors.count && jobs.allSatisfy(\.ready) })
    }

    /// Switches the VM onto the targets (`block-job-complete`), then lets go of the old nodes.
    public func pivot() async throws {
        for mirror in mirrors { try await client.blockJobComplete(mirror.jobID) }
        try await waitUntilConcluded()
        for mirror in mirrors {
            try? await client.blockdevDel(nodeName: mirror.sourceNode)
            if mirror.sourceNode == "drive\(mirror.driveIndex)" { try? await client.blockdevDel(nodeName: "file\(mirror.driveIndex)") }
        }
    }

    /// Ends READY mirrors with their targets complete, leaving the VM on its own disks
    /// (`block-job-cancel` of a READY job), then detaches the targets.
    public func finishWithoutPivot() async throws {
        for mirror in mirrors { try await client.blockJobCancel(mirror.jobID) }
        try await waitUntilConcluded()
    }

    /// Detaches the target nodes (after `finishWithoutPivot`, or to give up).
    public func removeTargets() async {
        for mirror in mirrors { try? await client.blockdevDel(nodeName: mirror.targetNode) }
    }

    /// Gives up: cancels every mirror at once and detaches the targets; the VM stays on its disks.
    public func abandon() async {
        for mirror in mirrors { try? await client.blockJobCancel(mirror.jobID, force: true) }
        try? await waitUntilConcluded(timeout: .seconds(30))
        await removeTargets()
    }

    private var jobIDs: Set<String> { Set(mirrors.map(\.jobID)) }

    /// Waits until every job has concluded, then dismisses them. - Throws: the first job's error.
    private func waitUntilConcluded(timeout: Duration = .seconds(120)) async throws {
        let jobs: [QMPBlockJob]
        do {
            jobs = try await client.waitForBlockJobs(jobIDs, interval: .milliseconds(50), timeout: timeout) { jobs in
                jobs.allSatisfy { $0.status == "concluded" }
            }
        } catch QMPError.blockJobFailed(let job, let reason) {
            for id in jobIDs { try? await client.jobDismiss(id) }
            throw QMPError.blockJobFailed(job: job, reason: reason)
        }
        for job in jobs { try? await client.jobDismiss(job.id) }
    }
}
