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

/// A block job as `query-block-jobs` reports it.
public struct QMPBlockJob: Sendable {
    public var id: String
    public var ready: Bool
    public var offset: Int64
    public var length: Int64
    public var status: String
    public var error: String?
}

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
