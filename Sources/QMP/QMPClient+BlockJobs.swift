extension QMPClient {
    /// `blockdev-add` with the given node definition.
    public func blockdevAdd(_ definition: [String: JSONValue]) async throws {
        try await execute("blockdev-add", arguments: definition)
    }

    /// `blockdev-del`.
    public func blockdevDel(nodeName: String) async throws {
        try await execute("blockdev-del", arguments: ["node-name": .string(nodeName)])
    }

    /// `blockdev-mirror … sync=full`: copy `device` into `target` while the guest writes; READY when in step.
    public func blockdevMirror(jobID: String, device: String, target: String) async throws {
        try await execute("blockdev-mirror", arguments: [
            "job-id": .string(jobID), "device": .string(device), "target": .string(target), "sync": .string("full"),
            "auto-dismiss": .bool(false),
        ])
    }

    /// `block-job-complete`: pivot a READY mirror onto its target.
    public func blockJobComplete(_ jobID: String) async throws {
        try await execute("block-job-complete", arguments: ["device": .string(jobID)])
    }

    /// `block-job-cancel`: stop a job; a READY mirror finishes its copy without pivoting.
    public func blockJobCancel(_ jobID: String, force: Bool = false) async throws {
        try await execute("block-job-cancel", arguments: ["device": .string(jobID), "force": .bool(force)])
    }

    /// `job-dismiss`: forget a concluded job.
    public func jobDismiss(_ jobID: String) async throws {
        try await execute("job-dismiss", arguments: ["id": .string(jobID)])
    }

    /// `query-block-jobs`.
    public func queryBlockJobs() async throws -> [QMPBlockJob] {
        let reply = try await execute("query-block-jobs")
        return (reply.arrayValue ?? []).map { job in
            QMPBlockJob(id: job["device"]?.stringValue ?? "", ready: job["ready"]?.boolValue ?? false,
                        offset: job["offset"]?.intValue ?? 0, length: job["len"]?.intValue ?? 0,
                        status: job["status"]?.stringValue ?? "", error: job["error"]?.stringValue)
        }
    }
}

extension QMPClient {
    /// The root block node of the device with qdev id `deviceID` (`query-block`), which changes
    /// when a mirror pivots the device onto its target.
    public func rootNode(ofDevice deviceID: String) async throws -> String {
        let reply = try await execute("query-block")
        for entry in reply.arrayValue ?? [] {
            guard let qdev = entry["qdev"]?.stringValue,
                  qdev == deviceID || qdev.hasPrefix("/machine/peripheral/\(deviceID)/"),
                  let node = entry["inserted"]?["node-name"]?.stringValue else { continue }
            return node
        }
        throw QMPError.commandFailed(command: "query-block", errorClass: "DeviceNotFound", description: "no disk \(deviceID) in the worker")
    }
}

extension QMPClient {
    /// The one polling loop over block jobs (mirrors now; backups and replica's bitmap copies
    /// next): every `interval` it reads the jobs named in `ids`, reports them to `observe`, and
    /// returns them when `done` says so. A job that reports an error fails the wait.
    /// - Throws: `QMPError.blockJobFailed` for a failed job; `QMPError.blockJobsTimedOut` after `timeout`
    ///   (nil: no limit but cancellation).
    public func waitForBlockJobs(_ ids: Set<String>, interval: Duration = .milliseconds(100), timeout: Duration? = nil,
                                 observe: ([QMPBlockJob]) -> Void = { _ in },
                                 until done: ([QMPBlockJob]) -> Bool) async throws -> [QMPBlockJob] {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            try Task.checkCancellation()
            let jobs = try await queryBlockJobs().filter { ids.contains($0.id) }
            if let failed = jobs.first(where: { $0.error != nil }) {
                throw QMPError.blockJobFailed(job: failed.id, reason: failed.error ?? "")
            }
            observe(jobs)
            if done(jobs) { return jobs }
            if let deadline, ContinuousClock.now >= deadline, let timeout {
                throw QMPError.blockJobsTimedOut(jobs: ids.sorted(), after: timeout)
            }
            try await Task.sleep(for: interval)
        }
    }

    /// `block_resize`: the node (a running disk's root node) grows to `sizeBytes`; the guest's
    /// controller tells the guest (virtio-scsi sends a capacity change).
    public func blockResize(nodeName: String, sizeBytes: UInt64) async throws {
        try await execute("block_resize", arguments: ["node-name": .string(nodeName), "size": .int(Int64(sizeBytes))])
    }
}
