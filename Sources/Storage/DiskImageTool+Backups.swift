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

    /// Copies a disk's content, read through its recorded chain (every format stated), into a
    /// backup target `createBackupTarget` made without a parent: `qemu-img convert -n
    /// --target-is-zero`, the engine's own copier, for a disk no running guest writes (an Off VM's).
    /// Reports percent. Like `convert`, it leaves the written data in the page cache: the caller syncs the file.
    public func copyIntoBackupTarget(chain: [DiskImage], target: String, progress: @escaping @Sendable (Int) -> Void) async throws {
        guard let source = chain.first else { throw ViridianError(.invalidArgument, "nothing to copy") }
        try await HostCommand.stream(qemuImg, ["convert", "-p", "-n", "--target-is-zero"] + secretArguments
                                     + ["--image-opts", DiskImage.imageOptions(chain, secret: imageSecret), "-O", "qcow2", target],
                                     purpose: "copying \(source.path) into \(target)", onOutput: QemuImgProgress.parser(progress))
    }

    /// Creates a qcow2 file of `sizeBytes` that holds no data, only persistent dirty bitmaps: the
    /// change tracking of a disk of any format, kept beside the VM (as Hyper-V keeps `.rct` files).
    /// With `bitmap`, the file holds that bitmap, empty, with `granularity` bytes per bit.
    public func createTrackingImage(path: String, sizeBytes: Int64, bitmap: String? = nil, granularity: Int64 = 65536) async throws {
        try await DiskPath.writeAtomically(to: path) { temporary in
            try await HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", "-o", "cluster_size=65536", temporary, String(sizeBytes)],
                                        purpose: "creating the change-tracking file \(path)")
            if let bitmap {
                try await HostCommand.check(qemuImg, ["bitmap", "--add", "-g", String(granularity), "-f", "qcow2", temporary, bitmap],
                                            purpose: "adding the change-tracking bitmap to \(path)")
            }
        }
    }
}
