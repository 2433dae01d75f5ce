import APITypes

/// The block nodes that open one hard disk's recorded chain in a worker, named as every part of
/// Viridian expects them: the active image is `drive<index>` over `file<index>`, the parent at depth
/// `d` is `drive<index>p<d>` over `file<index>p<d>` (read-only). Each qcow2 names the node below it
/// as its backing, the last one none, so QEMU opens exactly the recorded chain. The command line
/// gives them as `-blockdev` options; a hot add gives them to `blockdev-add`, parents first.
public struct DiskChainNodes: Sendable, Equatable {
    /// One file node and the format node over it.
    public struct Node: Sendable, Equatable {
        public let path: String
        public let format: VHDFormat
        public let nodeName: String
        public let fileNodeName: String
        public let readOnly: Bool
        /// The backing node's name for a qcow2 (nil: no backing); always nil for other formats.
        public let backing: String?
    }

    /// Parents first, the active image last.
    public let nodes: [Node]

    /// - Parameters:
    ///   - chain: the recorded chain, the active image first.
    ///   - driveIndex: the drive's position in the VM's configuration.
    public init(chain: [DiskImage], driveIndex: Int) {
        let top = Self.nodeName(driveIndex: driveIndex)
        nodes = chain.enumerated().reversed().map { depth, image in
            Node(path: image.path, format: image.format,
                 nodeName: depth == 0 ? top : "\(top)p\(depth)",
                 fileNodeName: depth == 0 ? "file\(driveIndex)" : "file\(driveIndex)p\(depth)",
                 readOnly: depth > 0,
                 backing: depth + 1 < chain.count ? "\(top)p\(depth + 1)" : nil)
        }
    }

    /// The active image's node, which the drive's device reads.
    public static func nodeName(driveIndex: Int) -> String { "drive\(driveIndex)" }

    /// The drive's device id (`disk<index>`), which `query-block` and `device_del` name.
    public static func deviceID(driveIndex: Int) -> String { "disk\(driveIndex)" }
}
