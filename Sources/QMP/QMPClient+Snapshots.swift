import Foundation

/// The block-layer steps of checkpoints on a running VM: external overlays taken over all disks at
/// one instant, and overlays folded back into the images below them.
extension QMPClient {
    /// One disk's part of `snapshotDisks`: the device's current root node and the overlay file to put over it.
    public struct Overlay: Sendable {
        public var node: String
        public var overlayNode: String
        public var file: String
        /// The secret object (a shielded VM's key) the overlay's LUKS layer opens with; nil for a plain overlay.
        public var encryptionSecret: String?

        public init(node: String, overlayNode: String, file: String, encryptionSecret: String? = nil) {
            self.node = node
            self.overlayNode = overlayNode
            self.file = file
            self.encryptionSecret = encryptionSecret
        }
    }

    /// Adds each overlay (a qcow2 file made beforehand, with no backing opened) and puts them over
    /// their disks in one `transaction` of `blockdev-snapshot`: all disks switch at the same instant,
    /// or none does. Overlay nodes added before a failure are removed again.
    public func snapshotDisks(_ overlays: [Overlay]) async throws {
        var added: [String] = []
        do {
            for overlay in overlays {
                var options: [String: JSONValue] = ["driver": .string("qcow2"), "node-name": .string(overlay.overlayNode),
                                                    "file": .object(["driver": .string("file"), "filename": .string(overlay.file)]),
                                                    "backing": .null]
                if let secret = overlay.encryptionSecret {
                    options["encrypt"] = .object(["format": .string("luks"), "key-secret": .string(secret)])
                }
                try await blockdevAdd(options)
                added.append(overlay.overlayNode)
            }
            var actions: [JSONValue] = []
            for overlay in overlays {
                actions.append(.object(["type": .string("blockdev-snapshot"),
                                        "data": .object(["node": .string(overlay.node), "overlay": .string(overlay.overlayNode)])]))
                // Change tracking moves with the disk onto its new active node.
                actions += Self.carryBitmapActions(try await dirtyBitmaps(onNode: overlay.node), from: overlay.node, to: overlay.overlayNode)
            }
            if !actions.isEmpty { try await execute("transaction", arguments: ["actions": .array(actions)]) }
        } catch {
            for node in added { try? await blockdevDel(nodeName: node) }
            throw error
        }
    }

    /// `block-commit`: writes the node `top` (and nothing below it) into `base` while the guest runs.
    /// When `top` is the device's active node the job turns READY and `block-job-complete` pivots
    /// the device onto `base`; an intermediate node's commit ends by itself.
    public func blockCommit(jobID: String, device: String, top: String, base: String) async throws {
        try await execute("block-commit", arguments: [
            "job-id": .string(jobID), "device": .string(device), "top-node": .string(top), "base-node": .string(base),
            "auto-dismiss": .bool(false),
        ])
    }

    /// Every block node of the worker (`query-named-block-nodes`, flat).
    public func namedBlockNodes() async throws -> [JSONValue] {
        try await execute("query-named-block-nodes", arguments: ["flat": .bool(true)]).arrayValue ?? []
    }

    /// The file a node of `namedBlockNodes` opened. A node whose backing differs from its header
    /// shows a `json:` file name; its `file.filename` is read.
    public static func openedFile(_ node: JSONValue) -> String? {
        guard let opened = node["file"]?.stringValue else { return nil }
        return fileName(inJSONFileName: opened) ?? opened
    }

    /// The drivers of nodes that open a file or device themselves, under a format node.
    public static let protocolDrivers: Set<String> = ["file", "host_device"]

    /// Whether `node` of `namedBlockNodes` is a protocol node (a file or host device opened).
    public static func isProtocolNode(_ node: JSONValue) -> Bool {
        node["drv"]?.stringValue.map(protocolDrivers.contains) ?? false
    }

    /// The format node that opened `file`, if the worker has one.
    public func formatNode(openingFile file: String) async throws -> String? {
        try await namedBlockNodes().first { !Self.isProtocolNode($0) && Self.openedFile($0) == file }?["node-name"]?.stringValue
    }

    /// The file the format node `node` opened.
    public func fileName(ofNode node: String) async throws -> String? {
        try await namedBlockNodes().first { $0["node-name"]?.stringValue == node }.flatMap(Self.openedFile)
    }

    /// `file.filename` of a `json:{…}` pseudo file name.
    static func fileName(inJSONFileName name: String) -> String? {
        jsonFileName(name)?["file"]?["filename"]?.stringValue
    }

    /// The options of a `json:` file name.
    private static func jsonFileName(_ name: String) -> JSONValue? {
        guard name.hasPrefix("json:"), let data = name.dropFirst(5).data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The `encrypt` options a LUKS-encrypted qcow2 node of `namedBlockNodes` was opened with (its
    /// secret object, which QEMU shows in the node's `json:` file name), for a `blockdev-reopen`
    /// that must repeat them; nil for a node that is not encrypted.
    public static func encryptOptions(_ node: JSONValue) -> JSONValue? {
        guard node["encrypted"]?.boolValue == true, let opened = node["file"]?.stringValue,
              let secret = jsonFileName(opened)?["encrypt.key-secret"]?.stringValue else { return nil }
        return .object(["format": .string("luks"), "key-secret": .string(secret)])
    }
}
