import Foundation

/// What a VM's change tracking knows, kept in `tracking.json` beside its change-tracking files.
/// The bits are in QEMU's bitmaps while the VM runs and in the change-tracking files while it is
/// Off; this says what they mean: every write since the backup point `token`, or nothing (`lost`).
package struct TrackingState: Codable, Sendable, Equatable {
    /// The backup point the bits count from; nil when they cannot be trusted.
    var token: String?
    /// Why they cannot, for the job and the event log.
    var lost: String?
    /// True between a worker's bitmaps being saved into the files and the worker's exit.
    var saved = false
    /// Size and modification time of every file of the disks' chains, taken when the VM's worker
    /// ended after saving its bitmaps: a file that differs later was written behind Viridian's back.
    var stamps: [String: FileStamp]?

    static let fresh = TrackingState(token: nil, lost: "the VM has no change tracking yet")

    mutating func lose(_ reason: String) {
        token = nil
        lost = reason
    }
}

/// A file's size and modification time.
struct FileStamp: Codable, Sendable, Equatable {
    var size: Int64
    var modifiedNanoseconds: Int64

    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        size = Int64(status.st_size)
        modifiedNanoseconds = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
    }
}
