import APITypes
import QMP

/// `blockdev-add` definitions of recorded disk chains.
enum BlockNodes {
    /// `chain` (the disk, then its parent…) with every node's driver and file given and the last
    /// image's backing cut off, so QEMU opens exactly the recorded chain. Only the top is named.
    static func definition(_ chain: [DiskImage], nodeName: String, readOnly: Bool) -> [String: JSONValue] {
        var below: JSONValue = .null
        for (depth, image) in chain.enumerated().reversed() {
            var node: [String: JSONValue] = [
                "driver": .string(image.format.qemuName),
                "file": .object(["driver": "file", "filename": .string(image.path)]),
                "read-only": .bool(readOnly || depth > 0),
            ]
            if image.format == .qcow2 { node["backing"] = below }
            if depth == 0 {
                node["node-name"] = .string(nodeName)
                return node
            }
            below = .object(node)
        }
        return [:]
    }
}
