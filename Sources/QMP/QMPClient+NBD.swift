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

    /// `block-export-add type=nbd`: export `nodeName` writable as `name`.
    public func blockExportAdd(id: String, nodeName: String, name: String) async throws {
        try await execute("block-export-add", arguments: [
            "type": .string("nbd"), "id": .string(id), "node-name": .string(nodeName), "name": .string(name),
            "writable": .bool(true),
        ])
    }

    /// `block-export-del`.
    public func blockExportDel(id: String) async throws {
        try await execute("block-export-del", arguments: ["id": .string(id)])
    }
}
