extension QMPClient {
    /// `migrate-set-capabilities`: turn migration capabilities on or off (`pause-before-switchover`, `multifd`, …).
    public func setMigrationCapabilities(_ capabilities: [String: Bool]) async throws {
        let list = capabilities.sorted { $0.key < $1.key }.map { name, state in
            JSONValue.object(["capability": .string(name), "state": .bool(state)])
        }
        try await execute("migrate-set-capabilities", arguments: ["capabilities": .array(list)])
    }

    /// `migrate-set-parameters` (`max-bandwidth`, `downtime-limit`, `tls-creds`, `multifd-channels`, …).
    public func setMigrationParameters(_ parameters: [String: JSONValue]) async throws {
        try await execute("migrate-set-parameters", arguments: parameters)
    }

    /// `migrate-continue`: leave the `pre-switchover` pause and switch over.
    public func migrateContinue() async throws {
        try await execute("migrate-continue", arguments: ["state": .string("pre-switchover")])
    }

    /// `object-add`: a QOM object such as TLS credentials.
    public func objectAdd(type: String, id: String, properties: [String: JSONValue]) async throws {
        var arguments = properties
        arguments["qom-type"] = .string(type)
        arguments["id"] = .string(id)
        try await execute("object-add", arguments: arguments)
    }

    /// `object-del`.
    public func objectDel(id: String) async throws {
        try await execute("object-del", arguments: ["id": .string(id)])
    }
}
