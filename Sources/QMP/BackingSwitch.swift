/// Points an image of a running disk chain at a new backing node without a pause: for a disk
/// under checkpoint overlays whose file moved (the guest writes only the top overlay, so the image
/// below is read-only and was copied as it is). The node's header gets the new file name too, so
/// the file on disk names its parent as the inventory does.
public struct BackingSwitch: Sendable {
    public let client: QMPClient

    public init(client: QMPClient) {
        self.client = client
    }

    /// Opens the flat image at `path` read-only as node `node`.
    public func open(_ path: String, driver: String, node: String) async throws {
        var definition: [String: JSONValue] = [
            "driver": .string(driver), "node-name": .string(node), "read-only": true,
            "file": ["driver": "file", "filename": .string(path), "read-only": true],
        ]
        if driver == "qcow2" { definition["backing"] = .null }
        try await client.blockdevAdd(definition)
    }

    /// Makes the qcow2 node that opened `image` (in the chain of the device whose root node is
    /// `root`) read through `node`, and writes `path` as the backing file into its header. A
    /// read-only image is reopened writable for the header and read-only again.
    public func repoint(_ image: String, onto node: String, path: String, root: String) async throws {
        let nodes = try await client.namedBlockNodes()
        guard let entry = nodes.first(where: { $0["drv"]?.stringValue == "qcow2" && QMPClient.openedFile($0) == image }),
              let name = entry["node-name"]?.stringValue,
              let fileNode = nodes.first(where: { $0["drv"]?.stringValue == "file" && QMPClient.openedFile($0) == image })?["node-name"]?.stringValue
        else {
            throw QMPError.commandFailed(command: "query-named-block-nodes", errorClass: "DeviceNotFound", description: "no qcow2 node opened \(image)")
        }
        let readOnly = entry["ro"]?.boolValue == true
        let encrypt = QMPClient.encryptOptions(entry)
        try await reopen(name, fileNode: fileNode, image: image, backing: node, readOnly: false, withFile: readOnly, encrypt: encrypt)
        try await client.execute("change-backing-file", arguments: [
            "device": .string(root), "image-node-name": .string(name), "backing-file": .string(path),
        ])
        if readOnly { try await reopen(name, fileNode: fileNode, image: image, backing: node, readOnly: true, withFile: true, encrypt: encrypt) }
    }

    /// `blockdev-reopen` of a qcow2 node (and its file node, `withFile`) with every option it was opened with.
    private func reopen(_ name: String, fileNode: String, image: String, backing: String, readOnly: Bool, withFile: Bool,
                        encrypt: JSONValue?) async throws {
        var options: [JSONValue] = []
        if withFile {
            options.append(["driver": "file", "node-name": .string(fileNode), "filename": .string(image), "read-only": .bool(readOnly)])
        }
        var format: [String: JSONValue] = ["driver": "qcow2", "node-name": .string(name), "file": .string(fileNode), "read-only": .bool(readOnly),
                                           "backing": .string(backing)]
        if let encrypt { format["encrypt"] = encrypt }
        options.append(.object(format))
        try await client.execute("blockdev-reopen", arguments: ["options": .array(options)])
    }
}
