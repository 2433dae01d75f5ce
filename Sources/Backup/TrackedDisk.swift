import APITypes
import Foundation

/// One hard disk of a VM as change tracking and backups see it: its drive index, the recorded chain
/// it is on now (checkpoint overlays first), and the disk the administrator gave the VM under them,
/// which names it across checkpoints.
package struct TrackedDisk: Sendable, Equatable {
    package var index: Int
    /// The recorded chain, the active image first.
    package var chain: [DiskImage]
    /// The first image of the chain outside the VM's checkpoint folder: the disk itself.
    package var identity: DiskImage
    package var sizeBytes: Int64

    package init(index: Int, chain: [DiskImage], checkpointFolder: String, sizeBytes: Int64) {
        self.index = index
        self.chain = chain
        identity = chain.first { !$0.path.hasPrefix(checkpointFolder + "/") } ?? chain.last ?? DiskImage(path: "", format: .raw)
        self.sizeBytes = sizeBytes
    }

    /// A short name derived from the disk's path, for its change-tracking file and QEMU node.
    var key: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in identity.path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
