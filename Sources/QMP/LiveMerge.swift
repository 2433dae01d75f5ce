import Foundation

/// Folds one image of a running VM's disk chain into the image below it (`block-commit`) while the
/// guest keeps running: the active image (the job turns READY, then pivots the device onto the
/// image below) or one in the middle of the chain (QEMU repoints the image above it). The merged
/// image's nodes are then let go, so its file can be deleted.
public struct LiveMerge: Sendable {
    public let client: QMPClient

    public init(client: QMPClient) {
        self.client = client
    }

    /// Merges the file `child` into the file `parent` on the disk with drive index `driveIndex`, reporting
    /// bytes done and to do. `record` runs once `parent` holds everything `child` held: for the active
    /// image while both are in step (READY, writes going to both), before the pivot, so that a daemon
    /// killed at any point leaves the inventory naming a file that reads right; for an image in the
    /// middle of the chain, after QEMU repointed the image above. Returns why the merged file is still
    /// held open, when its nodes could not be let go (the merge itself is done).
    @discardableResult
    public func merge(_ child: String, into parent: String, driveIndex: Int, record: () async throws -> Void,
                      progress: @Sendable (Int64, Int64) -> Void) async throws -> String? {
        guard let top = try await client.formatNode(openingFile: child), let base = try await client.formatNode(openingFile: parent) else {
            throw QMPError.commandFailed(command: "block-commit", errorClass: "DeviceNotFound",
                                         description: "the worker has no node for \(child) over \(parent)")
        }
        let root = try await client.rootNode(ofDevice: "disk\(driveIndex)")
        let nodes = try await client.namedBlockNodes()
        let above = nodes.filter { $0["backing_file"]?.stringValue == child }.compactMap(QMPClient.openedFile)
        try await makeWritable([parent] + above, nodes: nodes)
        let job = Self.jobID(driveIndex: driveIndex)
        // Writes from now on reach `base` too (the commit copies them); what `top` tracked is kept.
        if top == root { try await client.carryDirtyBitmaps(from: top, to: base) }
        try await client.blockCommit(jobID: job, device: root, top: top, base: base)
        let observe: ([QMPBlockJob]) -> Void = { jobs in progress(jobs.first?.offset ?? 0, jobs.first?.length ?? 0) }
        do {
            if top == root {
                _ = try await client.waitForBlockJobs([job], observe: observe) { $0.first?.ready == true }
            } else {
                try await waitUntilConcluded(job, observe: observe)
            }
        } catch {
            // Failed or cancelled before anything was stored: the chain stays as it was.
            await abandon(job)
            throw error
        }
        try await record()
        if top == root {
            // Stored: the pivot must happen now, whatever the caller's task does meanwhile.
            try await Task { try await finishPivot(job) }.value
        }
        do {
            try await release(child, node: top)
            return nil
        } catch {
            return "\(child) stays open in the worker until it ends: \(error)"
        }
    }

    /// Completes the READY merge `job` (`block-job-complete`): the device moves onto the image below.
    public func finishPivot(_ job: String) async throws {
        try await client.blockJobComplete(job)
        try await waitUntilConcluded(job)
    }

    /// Cancels `job` without a pivot and forgets it, so that nothing of it is left in the worker.
    private func abandon(_ job: String) async {
        await Task {
            // A job that ended by itself (it failed) cannot be cancelled; it is still waited for and dismissed.
            try? await client.blockJobCancel(job, force: true)
            do {
                try await waitUntilConcluded(job)
            } catch {
                client.logger.warning("a merge job could not be cancelled", metadata: ["job": "\(job)", "error": "\(error)"])
            }
        }.value
    }

    private func waitUntilConcluded(_ job: String, observe: ([QMPBlockJob]) -> Void = { _ in }) async throws {
        _ = try await client.waitForBlockJobs([job], observe: observe) { $0.first?.status == "concluded" }
        try await client.jobDismiss(job)
    }

    /// The job id of a merge on the disk with drive index `driveIndex`.
    public static func jobID(driveIndex: Int) -> String { "merge\(driveIndex)" }

    /// Deletes the nodes that still hold `file` open once it left the chain (a node added with
    /// `blockdev-add`, and a file node given on the command line).
    public func release(_ file: String, node: String) async throws {
        try await client.blockdevDel(nodeName: node)
        for entry in try await client.namedBlockNodes() where QMPClient.isProtocolNode(entry) && QMPClient.openedFile(entry) == file {
            if let name = entry["node-name"]?.stringValue { try await client.blockdevDel(nodeName: name) }
        }
    }

    /// Closes the images `files` (top first) once no node reads through them: after a merge, a
    /// backing switch, or a drive's device went.
    public func release(_ files: [String]) async throws {
        for file in files {
            guard let node = try await client.formatNode(openingFile: file) else { continue }
            try await release(file, node: node)
        }
    }

    /// Reopens writable (`blockdev-reopen`) the read-only parents among `files` that the worker's command
    /// line opened (`driveNpK` over `fileNpK`, backed by `driveNp(K+1)`): a commit writes into its base
    /// and repoints the image above its top. Overlays added since are writable already.
    private func makeWritable(_ files: [String], nodes: [JSONValue]) async throws {
        let names = Set(nodes.compactMap { $0["node-name"]?.stringValue })
        var options: [JSONValue] = []
        for file in files {
            guard let entry = nodes.first(where: { $0["drv"]?.stringValue != "file" && QMPClient.openedFile($0) == file }),
                  entry["ro"]?.boolValue == true, let name = entry["node-name"]?.stringValue, let driver = entry["drv"]?.stringValue,
                  let parent = CommandLineNode(name) else { continue }
            options.append(.object(["driver": .string("file"), "node-name": .string(parent.fileNode), "filename": .string(file),
                                    "read-only": .bool(false)]))
            var format: [String: JSONValue] = ["driver": .string(driver), "node-name": .string(name), "file": .string(parent.fileNode),
                                               "read-only": .bool(false)]
            if driver == "qcow2" { format["backing"] = names.contains(parent.backingNode) ? .string(parent.backingNode) : .null }
            if let encrypt = QMPClient.encryptOptions(entry) { format["encrypt"] = encrypt }
            options.append(.object(format))
        }
        if !options.isEmpty { try await client.execute("blockdev-reopen", arguments: ["options": .array(options)]) }
    }

    /// A parent node of a disk chain as `QEMUCommandLine` names it: `drive<index>p<depth>`.
    private struct CommandLineNode {
        let drive: Int
        let depth: Int

        init?(_ name: String) {
            guard name.hasPrefix("drive") else { return nil }
            let parts = name.dropFirst(5).split(separator: "p", omittingEmptySubsequences: false)
            guard parts.count == 2, let drive = Int(parts[0]), let depth = Int(parts[1]) else { return nil }
            self.drive = drive
            self.depth = depth
        }

        var fileNode: String { "file\(drive)p\(depth)" }
        var backingNode: String { "drive\(drive)p\(depth + 1)" }
    }
}
