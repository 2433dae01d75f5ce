extension QMPClient {
    /// `nbd-server-start` on `host:port`, with TLS credentials when given.
    public func nbdServerStart(host: String, port: Int, tlsCredentials: String?) async throws {
        var arguments: [String: JSONValue] = [
            "addr": .object(["type": .string("inet"),
                             "data": .object(["host": .string(host), "port": .string(String(port))])]),
        ]
        if let tlsCredentials { arguments["tls-creds"] = .string(tlsCredentials) }
        try await execute("nbd-server-start", arguments: arguments)
    }

    /// `nbd-server-stop`.
    public func nbdServerStop() async throws { try await execute("nbd-server-stop") }

    /// `block-export-add type=nbd`: export `nodeName` as `name`, writable or not, with the dirty
    /// bitmaps `bitmaps` (reachable from the node) as `qemu:dirty-bitmap:NAME` meta contexts.
    public func blockExportAdd(id: String, nodeName: String, name: String, writable: Bool = true, bitmaps: [String] = []) async throws {
        var arguments: [String: JSONValue] = [
            "type": .string("nbd"), "id": .string(id), "node-name": .string(nodeName), "name": .string(name),
            "writable": .bool(writable),
        ]
        if !bitmaps.isEmpty { arguments["bitmaps"] = .array(bitmaps.map { .string($0) }) }
        try await execute("block-export-add", arguments: arguments)
    }

    /// `block-export-del`; `hard` also drops the clients connected to it.
    public func blockExportDel(id: String, hard: Bool = false) async throws {
        var arguments: [String: JSONValue] = ["id": .string(id)]
        if hard { arguments["mode"] = .string("hard") }
        try await execute("block-export-del", arguments: arguments)
    }

    /// The ids of the block exports (`query-block-exports`).
    public func blockExportIDs() async throws -> [String] {
        try await execute("query-block-exports").arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }
}
