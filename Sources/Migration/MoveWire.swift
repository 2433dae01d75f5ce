import APITypes
import Foundation
import Inventory
import Peers

/// A VM as it travels between hosts: what the destination needs to run it, apart from how either
/// host stores it (the inventory's `VMRecord` can change without changing the host protocol).
package struct MovingVM: Codable, Sendable {
    package var id: String
    package var name: String
    /// The state on the source when the move began.
    package var state: VMState
    package var configuration: VMConfiguration
    package var notes: String
    package var image: String?
    package var createdAt: Date
    package var startedAt: Date?

    package init(_ record: VMRecord) {
        id = record.id
        name = record.name
        state = record.state
        configuration = record.configuration
        notes = record.notes
        image = record.image
        createdAt = record.createdAt
        startedAt = record.startedAt
    }

    /// The VM as this host stores it.
    package var record: VMRecord {
        VMRecord(id: id, name: name, state: state, configuration: configuration, notes: notes, image: image,
                 createdAt: createdAt, startedAt: startedAt)
    }
}

/// How a VM comes over.
package enum IncomingMode: String, Codable, Sendable {
    /// A running or paused VM: a worker waits for the memory stream.
    case live
    /// An Off or Saved VM: its configuration, and uploaded files (saved state, disks with storage).
    case offline
}

/// A disk the destination creates for a move with storage.
package struct IncomingDisk: Codable, Sendable {
    /// The drive's index in the VM's configuration.
    package var driveIndex: Int
    package var format: String
    package var virtualSize: Int64
    /// Bytes the source's chain holds: what the copy may need on the destination.
    package var allocatedBytes: Int64
}

/// A file an offline move uploads: a Saved VM's memory state, or an Off VM's disk (flattened).
package struct IncomingFile: Codable, Sendable, Hashable {
    /// `saved-state`, or `disk-N` for drive index N.
    package var name: String
    package var size: Int64

    package static let savedState = "saved-state"
    package static func disk(_ index: Int) -> String { "disk-\(index)" }
}

/// Performance settings both ends of a memory stream must agree on.
package struct MigrationTuning: Codable, Sendable {
    package var channels: Int
    package var compression: MigrationCompression
}

/// `POST /peer/v1/incoming`: the source asks the destination to prepare for a VM.
package struct IncomingRequest: Codable, Sendable {
    /// The host protocol the source speaks (`PeerProtocol.version`); nil from older sources.
    package var protocolVersion: Int?
    package var sourceHost: String
    package var vm: MovingVM
    package var hostItems: [String: String]
    package var mode: IncomingMode
    package var includeStorage: Bool
    package var destinationPath: String?
    package var disks: [IncomingDisk]
    /// A Generation 2 VM's UEFI variables.
    package var nvram: Data?
    /// A virtual TPM's permanent state (`WorkerPaths.tpmState`): what a TPM is when the VM is Off.
    /// A live move carries the running TPM in the migration stream as well.
    package var tpmState: Data?
    /// A shielded VM's key (`ShieldingKey`), which only ever travels inside this request over the
    /// peers' mutual TLS; the destination puts it in its key store.
    package var shieldingKey: String?
    package var tuning: MigrationTuning
    /// Files an offline move uploads before its commit.
    package var files: [IncomingFile]
    /// The end of the VM's console log, so the log goes on at the destination.
    package var consoleLog: Data?
    /// What the source recorded about every file of the VM's hard disks (each disk's chain), so
    /// that a destination on shared storage opens them with the same formats and parents.
    package var diskImages: [DiskImage]?
    /// The VM's ownership generation on the source; the destination records one more (nil from a
    /// source that did not record ownership: the destination starts at 1).
    package var generation: Int64?

    /// How much of the console log comes along.
    package static let consoleLogLimit = 1 << 20
}

/// Where the destination listens for a migration, in its preference order.
package struct MigrationEndpoint: Codable, Sendable, Hashable {
    package var address: String
    /// The migration network (CIDR) the address is on, or nil when any network is used.
    package var network: String?
}

/// The destination's answer: where to send memory and disks.
package struct IncomingPlan: Codable, Sendable {
    package var id: String
    /// The destination's host name, which its certificate names (QEMU's `tls-hostname`).
    package var hostName: String
    package var endpoints: [MigrationEndpoint]
    package var migrationPort: Int?
    package var nbdPort: Int?
    /// NBD export name by drive index (moves with storage).
    package var exports: [Int: String]
    /// The disks' paths on the destination by drive index.
    package var diskPaths: [Int: String]
}

/// The destination's view of a prepared migration.
package enum IncomingState: String, Codable, Sendable {
    case pending, committed, aborted
}

package struct IncomingStatus: Codable, Sendable {
    package var state: IncomingState

    package init(state: IncomingState) { self.state = state }
}
