import APITypes
import Foundation
import Inventory

/// What a peer says about itself (`GET /peer/v1/host`): enough for a source to refuse a move early.
struct PeerHello: Codable, Sendable {
    /// The host-to-host protocol this host speaks (`PeerProtocol.version`); nil from hosts before it was negotiated.
    var protocolVersion: Int?
    var hostName: String
    var version: String
    var qemuVersion: String
    var accelerator: Accelerator
    /// Memory this host can still give VMs.
    var availableMemoryMiB: Int
    var logicalProcessors: Int
    /// The virtual switches VMs can connect to.
    var switches: [String]
}

/// The host-to-host protocol: moves between hosts need both to speak the same version.
enum PeerProtocol {
    /// 2: moves carry the VM's ownership generation, and a commit's outcome is always asked for when its answer is not "committed".
    static let version = 2

    /// Refuses a peer that speaks another version, saying which side to upgrade.
    static func requireCompatible(_ hello: PeerHello, peer: String) throws {
        guard hello.protocolVersion == version else {
            let theirs = hello.protocolVersion.map { "version \($0)" } ?? "an older version"
            throw ViridianError(.conflict, "host '\(peer)' runs Viridian \(hello.version), which speaks host protocol \(theirs); this host speaks version \(version): "
                                + "upgrade the older of the two before moving VMs between them")
        }
    }
}

/// How a VM comes over.
enum IncomingMode: String, Codable, Sendable {
    /// A running or paused VM: a worker waits for the memory stream.
    case live
    /// An Off or Saved VM: its configuration, and uploaded files (saved state, disks with storage).
    case offline
}

/// A disk the destination creates for a move with storage.
struct IncomingDisk: Codable, Sendable {
    /// The drive's index in the VM's configuration.
    var driveIndex: Int
    var format: String
    var virtualSize: Int64
    /// Bytes the source's chain holds: what the copy may need on the destination.
    var allocatedBytes: Int64
}

/// A file an offline move uploads: a Saved VM's memory state, or an Off VM's disk (flattened).
struct IncomingFile: Codable, Sendable, Hashable {
    /// `saved-state`, or `disk-N` for drive index N.
    var name: String
    var size: Int64

    static let savedState = "saved-state"
    static func disk(_ index: Int) -> String { "disk-\(index)" }
}

/// Performance settings both ends of a memory stream must agree on.
struct MigrationTuning: Codable, Sendable {
    var channels: Int
    var compression: MigrationCompression
}

/// `POST /peer/v1/incoming`: the source asks the destination to prepare for a VM.
struct IncomingRequest: Codable, Sendable {
    /// The host protocol the source speaks (`PeerProtocol.version`); nil from older sources.
    var protocolVersion: Int?
    var sourceHost: String
    var record: VMRecord
    var hostItems: [String: String]
    var mode: IncomingMode
    var includeStorage: Bool
    var destinationPath: String?
    var disks: [IncomingDisk]
    /// A Generation 2 VM's UEFI variables.
    var nvram: Data?
    var tuning: MigrationTuning
    /// Files an offline move uploads before its commit.
    var files: [IncomingFile]
    /// The end of the VM's console log, so the log goes on at the destination.
    var consoleLog: Data?
    /// What the source recorded about every file of the VM's hard disks (each disk's chain), so
    /// that a destination on shared storage opens them with the same formats and parents.
    var diskImages: [DiskImage]?
    /// The VM's ownership generation on the source; the destination records one more (nil from a
    /// source that did not record ownership: the destination starts at 1).
    var generation: Int64?

    /// How much of the console log comes along.
    static let consoleLogLimit = 1 << 20
}

/// Where the destination listens for a migration, in its preference order.
struct MigrationEndpoint: Codable, Sendable, Hashable {
    var address: String
    /// The migration network (CIDR) the address is on, or nil when any network is used.
    var network: String?
}

/// The destination's answer: where to send memory and disks.
struct IncomingPlan: Codable, Sendable {
    var id: String
    /// The destination's host name, which its certificate names (QEMU's `tls-hostname`).
    var hostName: String
    var endpoints: [MigrationEndpoint]
    var migrationPort: Int?
    var nbdPort: Int?
    /// NBD export name by drive index (moves with storage).
    var exports: [Int: String]
    /// The disks' paths on the destination by drive index.
    var diskPaths: [Int: String]
}

/// The destination's view of a prepared migration.
enum IncomingState: String, Codable, Sendable {
    case pending, committed, aborted
}

struct IncomingStatus: Codable, Sendable {
    var state: IncomingState
}
