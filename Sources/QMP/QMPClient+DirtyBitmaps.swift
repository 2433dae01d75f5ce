/// Dirty bitmaps (change tracking) and the backup job: what backups and, later, Replica build on.
extension QMPClient {
    /// A dirty bitmap as `query-named-block-nodes` reports it on a node.
    public struct DirtyBitmap: Sendable, Equatable {
        public var name: String
        /// Bytes marked dirty.
        public var count: Int64
        public var granularity: Int64
        public var persistent: Bool
        /// True for a persistent bitmap its image says was in use when its process ended: its bits cannot be trusted.
        public var inconsistent: Bool
    }

    /// The dirty bitmaps on `node`.
    public func dirtyBitmaps(onNode node: String) async throws -> [DirtyBitmap] {
        guard let entry = try await namedBlockNodes().first(where: { $0["node-name"]?.stringValue == node }) else {
            throw QMPError.commandFailed(command: "query-named-block-nodes", errorClass: "DeviceNotFound", description: "no block node \(node)")
        }
        return (entry["dirty-bitmaps"]?.arrayValue ?? []).map { bitmap in
            DirtyBitmap(name: bitmap["name"]?.stringValue ?? "", count: bitmap["count"]?.intValue ?? 0,
                        granularity: bitmap["granularity"]?.intValue ?? 0, persistent: bitmap["persistent"]?.boolValue ?? false,
                        inconsistent: bitmap["inconsistent"]?.boolValue ?? false)
        }
    }

    /// `block-dirty-bitmap-add`: from now on, writes through `node` mark `name`. A persistent
    /// bitmap is stored in its qcow2 image when the node closes.
    public func addDirtyBitmap(node: String, name: String, granularity: Int64, persistent: Bool) async throws {
        try await execute("block-dirty-bitmap-add", arguments: [
            "node": .string(node), "name": .string(name), "granularity": .int(granularity), "persistent": .bool(persistent),
        ])
    }

    /// `block-dirty-bitmap-remove`.
    public func removeDirtyBitmap(node: String, name: String) async throws {
        try await execute("block-dirty-bitmap-remove", arguments: ["node": .string(node), "name": .string(name)])
    }

    /// `block-dirty-bitmap-clear`.
    public func clearDirtyBitmap(node: String, name: String) async throws {
        try await execute("block-dirty-bitmap-clear", arguments: ["node": .string(node), "name": .string(name)])
    }

    /// `block-dirty-bitmap-merge`: marks in `name` on `node` every bit set in `sources` (node, bitmap), on any node.
    public func mergeDirtyBitmaps(node: String, name: String, sources: [(node: String, name: String)]) async throws {
        try await execute("block-dirty-bitmap-merge", arguments: [
            "node": .string(node), "target": .string(name),
            "bitmaps": .array(sources.map { .object(["node": .string($0.node), "name": .string($0.name)]) }),
        ])
    }

    /// One disk's part of `startBackups`.
    public struct BackupJob: Sendable {
        public var jobID: String
        /// The node whose content is copied (a running VM's root node).
        public var source: String
        /// The node written (a qcow2 file of the repository).
        public var target: String
        /// The bitmap whose dirty blocks are copied (`sync=bitmap`); nil copies every block.
        public var bitmap: String?
        /// A bitmap on `source` synchronised by a full copy: on success it holds only what was written since the job began.
        public var resetBitmap: String?

        public init(jobID: String, source: String, target: String, bitmap: String?, resetBitmap: String?) {
            self.jobID = jobID
            self.source = source
            self.target = target
            self.bitmap = bitmap
            self.resetBitmap = resetBitmap
        }
    }

    /// Starts a `blockdev-backup` per disk in one `transaction` (grouped: one failing job cancels
    /// the others): every disk's point in time is the same instant, and from then on guest writes
    /// copy the old block out first (copy-before-write), so the guest is not paused. A bitmap given
    /// is cleared only when its job succeeds (`bitmap-mode=on-success`); a failed job leaves it whole.
    public func startBackups(_ jobs: [BackupJob]) async throws {
        var all: [JSONValue] = []
        for job in jobs {
            var data: [String: JSONValue] = [
                "job-id": .string(job.jobID), "device": .string(job.source), "target": .string(job.target),
                "auto-dismiss": .bool(false),
            ]
            if let bitmap = job.bitmap {
                data["sync"] = .string("bitmap")
                data["bitmap"] = .string(bitmap)
                data["bitmap-mode"] = .string("on-success")
            } else {
                data["sync"] = .string("full")
                if let reset = job.resetBitmap {
                    data["bitmap"] = .string(reset)
                    data["bitmap-mode"] = .string("on-success")
                }
            }
            all.append(.object(["type": .string("blockdev-backup"), "data": .object(data)]))
        }
        try await execute("transaction", arguments: [
            "actions": .array(all), "properties": .object(["completion-mode": .string("grouped")]),
        ])
    }

    /// A transaction action that adds a bitmap.
    public static func addBitmapAction(node: String, name: String, granularity: Int64) -> JSONValue {
        .object(["type": .string("block-dirty-bitmap-add"),
                 "data": .object(["node": .string(node), "name": .string(name), "granularity": .int(granularity)])])
    }

    /// Transaction actions that give `node` a copy of each of `bitmaps` (found on `source`): for a
    /// node that takes over from `source` as a disk's active node, so change tracking goes on.
    public static func carryBitmapActions(_ bitmaps: [DirtyBitmap], from source: String, to node: String) -> [JSONValue] {
        bitmaps.filter { !$0.inconsistent }.flatMap { bitmap -> [JSONValue] in
            [addBitmapAction(node: node, name: bitmap.name, granularity: bitmap.granularity),
             .object(["type": .string("block-dirty-bitmap-merge"),
                      "data": .object(["node": .string(node), "target": .string(bitmap.name),
                                       "bitmaps": .array([.object(["node": .string(source), "name": .string(bitmap.name)])])])])]
        }
    }

    /// Marks on `node` every bit of each bitmap on `source` (adding the bitmaps `node` lacks), before
    /// `node` becomes the disk's active node again (a merge of the active image into it).
    public func carryDirtyBitmaps(from source: String, to node: String) async throws {
        let present = Set(try await dirtyBitmaps(onNode: node).map(\.name))
        for bitmap in try await dirtyBitmaps(onNode: source) where !bitmap.inconsistent {
            if !present.contains(bitmap.name) {
                try await addDirtyBitmap(node: node, name: bitmap.name, granularity: bitmap.granularity, persistent: false)
            }
            try await mergeDirtyBitmaps(node: node, name: bitmap.name, sources: [(source, bitmap.name)])
        }
    }
}
