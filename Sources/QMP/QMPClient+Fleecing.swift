/// Image fleecing (a running disk's content at one instant, read while the guest goes on writing)
/// and the transaction actions it is taken with: what a pull-mode backup export serves.
extension QMPClient {
    /// `transaction` of `actions`: all take effect at one instant, or none does.
    public func transaction(_ actions: [JSONValue]) async throws {
        try await execute("transaction", arguments: ["actions": .array(actions)])
    }

    /// A `blockdev-backup sync=none` action: from the instant on, a guest write to `source` first
    /// copies the old block into `scratch` (a qcow2 node whose backing is `source`), so `scratch`
    /// reads as `source` was at the instant. The job runs until it is cancelled.
    public static func fleeceAction(jobID: String, source: String, scratch: String) -> JSONValue {
        .object(["type": .string("blockdev-backup"),
                 "data": .object(["job-id": .string(jobID), "device": .string(source), "target": .string(scratch),
                                  "sync": .string("none"), "auto-dismiss": .bool(false)])])
    }

    /// A transaction action that adds a bitmap no write marks (disabled): a record of one instant.
    public static func addFrozenBitmapAction(node: String, name: String, granularity: Int64) -> JSONValue {
        .object(["type": .string("block-dirty-bitmap-add"),
                 "data": .object(["node": .string(node), "name": .string(name), "granularity": .int(granularity),
                                  "disabled": .bool(true)])])
    }

    /// A transaction action that marks in `name` on `node` every bit of `sources` (node, bitmap).
    public static func mergeBitmapsAction(node: String, name: String, sources: [(node: String, name: String)]) -> JSONValue {
        .object(["type": .string("block-dirty-bitmap-merge"),
                 "data": .object(["node": .string(node), "target": .string(name),
                                  "bitmaps": .array(sources.map { .object(["node": .string($0.node), "name": .string($0.name)]) })])])
    }

    /// A transaction action that empties a bitmap.
    public static func clearBitmapAction(node: String, name: String) -> JSONValue {
        .object(["type": .string("block-dirty-bitmap-clear"), "data": .object(["node": .string(node), "name": .string(name)])])
    }
}
