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
        /// QEMU's protocol driver of the file node: `file`, or `host_device` for a pass-through disk.
        public let protocolDriver: String
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
            Node(path: image.path, protocolDriver: "file", format: image.format,
                 nodeName: depth == 0 ? top : "\(top)p\(depth)",
                 fileNodeName: depth == 0 ? "file\(driveIndex)" : "file\(driveIndex)p\(depth)",
                 readOnly: depth > 0,
                 backing: depth + 1 < chain.count ? "\(top)p\(depth + 1)" : nil)
        }
    }

    /// The nodes of a pass-through disk: the host block device, raw, at position `driveIndex`.
    public init(passThrough device: String, driveIndex: Int) {
        nodes = [Node(path: device, protocolDriver: "host_device", format: .raw, nodeName: Self.nodeName(driveIndex: driveIndex),
                      fileNodeName: "file\(driveIndex)", readOnly: false, backing: nil)]
    }

    /// The nodes of the hard disk `drive` at `driveIndex`: its host device, or its recorded chain.
    /// - Throws: `internalError` when a disk file has no recorded chain.
    public init(drive: DriveAttachment, chain: [DiskImage]?, driveIndex: Int) throws {
        if drive.passThrough, let device = drive.path {
            self.init(passThrough: device, driveIndex: driveIndex)
            return
        }
        guard let chain, chain.first?.path == drive.path else {
            throw ViridianError(.internalError, "\(drive.path ?? "a disk") at \(drive.locationName) has no recorded format")
        }
        self.init(chain: chain, driveIndex: driveIndex)
    }

    /// The active image's node, which the drive's device reads.
    public static func nodeName(driveIndex: Int) -> String { "drive\(driveIndex)" }

    /// The drive's device id (`disk<index>`), which `query-block` and `device_del` name.
    public static func deviceID(driveIndex: Int) -> String { "disk\(driveIndex)" }
}
