import APITypes
import Foundation
import HostTools

/// Overlays for checkpoints: a qcow2 file over any recorded disk, folded back into it later.
extension DiskImageTool {
    /// Creates a qcow2 overlay of `sizeBytes` whose parent is `parent`, without opening the parent
    /// (`-u`): it may be a disk a running VM holds locked.
    public func createOverlay(path: String, parent: DiskImage, sizeBytes: Int64) async throws {
        try DiskPath.requireAbsent(path)
        try await DiskPath.writeAtomically(to: path) { temporary in
            try await HostCommand.check(qemuImg, ["create", "-q", "-u", "-f", "qcow2"] + secretArguments + encryptionCreationOptions
                                                  + ["-b", parent.path, "-F", parent.format.qemuName, temporary, String(sizeBytes)],
                                        purpose: "creating the overlay \(path)")
        }
    }

    /// Writes what the qcow2 `child` holds into its recorded parent `parent`; the child stays
    /// (still reading the same), for the caller to delete once nothing names it.
    public func commit(child: DiskImage, into parent: DiskImage, progress: @escaping @Sendable (Int) -> Void) async throws {
        guard child.parentPath == parent.path else {
            throw ViridianError(.invalidArgument, "\(child.path) is not a differencing disk of \(parent.path)")
        }
        try await HostCommand.stream(qemuImg, ["commit", "-p", "-d"] + secretArguments
                                                + ["--image-opts", DiskImage.imageOptions([child, parent], secret: imageSecret)],
                                     purpose: "merging \(child.path) into \(parent.path)", onOutput: QemuImgProgress.parser(progress))
    }

    /// Makes the qcow2 `image` name `parent` as its parent without copying anything (`rebase -u`):
    /// for a disk whose old parent was just merged into `parent`, so that both read the same.
    public func replaceParent(of image: DiskImage, with parent: DiskImage) async throws {
        guard image.format == .qcow2 else {
            throw ViridianError(.invalidArgument, "only a qcow2 disk names a parent, not \(image.path)")
        }
        let opened = encryptionKeyFile == nil ? ["-f", "qcow2", image.path]
            : secretArguments + ["--image-opts", DiskImage.imageOptions([DiskImage(path: image.path, format: .qcow2)], secret: imageSecret)]
        try await HostCommand.check(qemuImg, ["rebase", "-q", "-u", "-b", parent.path, "-F", parent.format.qemuName] + opened,
                                    purpose: "pointing \(image.path) at \(parent.path)")
    }
}
