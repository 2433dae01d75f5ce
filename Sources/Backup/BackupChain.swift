import APITypes
import Foundation

/// A VM's backup chain in a repository (`<repository>/<VM>/chain.json`): its points, oldest first.
/// The first point is full; each later one holds what changed since the one before (or is full
/// again). A point's files are complete before the chain names it.
struct BackupChain: Codable, Sendable {
    static let currentFormat = 1

    var format = Self.currentFormat
    var vmID: String
    var vmName: String
    var points: [BackupPoint] = []
    /// A prune that folds `from` into `into` and may have been interrupted: it is finished before
    /// anything else changes the chain, and `from` no longer counts as a point.
    var pendingFold: PendingFold?

    init(vmID: String, vmName: String) {
        self.vmID = vmID
        self.vmName = vmName
    }

    /// The points a restore can use.
    var restorable: [BackupPoint] { points.filter { $0.name != pendingFold?.from } }
}

/// One point of a chain.
struct BackupPoint: Codable, Sendable {
    /// The point's folder and name: its UTC time.
    var name: String
    var kind: BackupKind
    var createdAt: Date
    /// Names this point to the VM's change tracking (the bits count from here).
    var token: String
    var applicationConsistent: Bool
    var note: String?
    /// The VM as it was, its disks' paths as they were.
    var configuration: VMConfiguration
    var notes: String
    /// The UEFI variables (a file in the point's folder), for a Generation 2 VM.
    var nvram: String?
    /// The virtual TPM's permanent state (a file in the point's folder), when the VM has one.
    var tpmState: String?
    var disks: [BackupDisk]
}

/// One disk of a point.
struct BackupDisk: Codable, Sendable {
    /// The drive index in the configuration.
    var index: Int
    /// The disk the administrator gave the VM (under any checkpoint overlays) and its format, which a restore writes again.
    var path: String
    var format: VHDFormat
    var sizeBytes: Int64
    /// The qcow2 file in the point's folder; an incremental point's names the same disk's file of
    /// the point before as its parent.
    var file: String
    /// Bytes the file takes.
    var bytes: Int64
}
