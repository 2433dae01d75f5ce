import APITypes
import Foundation
import HostTools

/// Files of a backup repository: the qcow2 image each disk's backup point is written into.
extension DiskImageTool {
    /// Creates the qcow2 file a backup job writes one disk's point into: empty, `sizeBytes` long,
    /// with 64 KiB clusters (the change tracking's granularity). An incremental point names the
    /// point before it as its parent by a path relative to its own folder (`parentName`), so the
    /// repository reads the same wherever it is mounted; nothing is opened (`-u`).
    public func createBackupTarget(path: String, sizeBytes: Int64, parentName: String?) async throws {
        try DiskPath.requireAbsent(path)
        var arguments = ["create", "-q", "-f", "qcow2", "-o", "cluster_size=65536"]
        if let parentName { arguments += ["-u", "-b", parentName, "-F", "qcow2"] }
        try await HostCommand.check(qemuImg, arguments + [path, String(sizeBytes)], purpose: "creating the backup file \(path)")
    }

    /// Creates a qcow2 file of `sizeBytes` that holds no data, only persistent dirty bitmaps: the
    /// change tracking of a disk of any format, kept beside the VM (as Hyper-V keeps `.rct` files).
    public func createTrackingImage(path: String, sizeBytes: Int64) async throws {
        try await DiskPath.writeAtomically(to: path) { temporary in
            try await HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", "-o", "cluster_size=65536", temporary, String(sizeBytes)],
                                        purpose: "creating the change-tracking file \(path)")
        }
    }
}
