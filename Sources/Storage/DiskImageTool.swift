import APITypes
import Foundation
import HostTools

/// Virtual hard disks through `qemu-img`: create, inspect, resize, convert, merge.
/// Every operation that writes a new file writes it under a temporary name and renames it at
/// the end, so a failure or a cancel leaves nothing half-made.
public struct DiskImageTool: Sendable {
    /// The `qemu-img` binary.
    public let qemuImg: String

    /// Finds `qemu-img`.
    /// - Throws: `missingDependency` naming the `qemu-utils` package.
    public init() throws {
        qemuImg = try HostExecutable.locate("qemu-img", package: "qemu-utils")
    }

    /// Creates a fixed or dynamic disk of `sizeBytes` (New-VHD).
    public func create(path: String, format: VHDFormat, type: VHDType, sizeBytes: UInt64) async throws {
        try DiskPath.requireAbsent(path)
        guard sizeBytes >= 1 << 20, sizeBytes % 512 == 0 else {
            throw ViridianError(.invalidArgument, "a disk size must be at least 1 MiB and a multiple of 512 bytes")
        }
        guard format.maximumSizeBytes >= sizeBytes else {
            throw ViridianError(.invalidArgument,
                                "\(format.rawValue.uppercased()) disks hold at most \(ByteSize.format(format.maximumSizeBytes))")
        }
        guard type != .differencing else {
            throw ViridianError(.invalidArgument, "a differencing disk needs a parent; use createDifferencing")
        }
        try await DiskPath.writeAtomically(to: path) { temporary in
            try await HostCommand.check(qemuImg, ["create", "-q", "-f", format.qemuName]
                + format.creationOptions(type: type) + [temporary, String(sizeBytes)],
                purpose: "creating \(path)")
        }
    }

    /// Creates a qcow2 differencing disk whose parent is `parentPath` (any format, VHDX included).
    public func createDifferencing(path: String, parentPath: String) async throws {
        try DiskPath.requireAbsent(path)
        guard VHDFormat.from(path: path) == .qcow2 else {
            throw ViridianError(.invalidArgument,
                                "a differencing disk must be a .qcow2 file (QEMU gives VHDX and VHD no parent), not \(path)")
        }
        let parent = try await info(path: parentPath)
        try await DiskPath.writeAtomically(to: path) { temporary in
            try await HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", "-b", parent.path,
                                                  "-F", parent.format.qemuName, temporary],
                                        purpose: "creating the differencing disk \(path)")
        }
    }

    /// What the disk at `path` is (Get-VHD). Reads with shared locks, so it works on a disk a VM uses.
    public func info(path: String) async throws -> VHDInfo {
        try DiskPath.requireExisting(path)
        let output = try await HostCommand.check(qemuImg, ["info", "-U", "--output=json", path],
                                                 purpose: "reading \(path)")
        let report = try QemuImgInfo.decode(output.standardOutput)
        guard let format = VHDFormat(qemuName: report.format) else {
            throw ViridianError(.invalidArgument, "\(path) is a \(report.format) image, which Viridian does not manage")
        }
        let parent = report.fullBackingFilename ?? report.backingFilename
        return VHDInfo(path: path, format: format, type: report.vhdType(format: format, hasParent: parent != nil),
                       sizeBytes: report.virtualSize, fileSizeBytes: report.actualSize ?? 0,
                       parentPath: parent, attachedTo: nil)
    }

    /// Every file a disk reads: the disk itself, then its parent, grandparent…
    public func chain(path: String) async throws -> [String] {
        var files: [String] = []
        var next: String? = path
        while let current = next, files.count < 64 {
            files.append(current)
            next = try await info(path: current).parentPath
        }
        return files
    }

    /// Grows a disk to `sizeBytes` (Resize-VHD). Shrinking and VHDX are refused with the reason.
    public func resize(path: String, sizeBytes: UInt64) async throws {
        let current = try await info(path: path)
        guard current.format != .vhdx else {
            throw ViridianError(.invalidArgument,
                                "QEMU cannot resize VHDX disks; convert it to qcow2 first (viridian vhd convert)")
        }
        guard sizeBytes >= current.sizeBytes else {
            throw ViridianError(.invalidArgument,
                                "shrinking \(path) from \(ByteSize.format(current.sizeBytes)) would lose data; only growing is supported")
        }
        guard sizeBytes <= current.format.maximumSizeBytes else {
            throw ViridianError(.invalidArgument, "\(current.format.rawValue.uppercased()) disks hold at most \(ByteSize.format(current.format.maximumSizeBytes))")
        }
        try await HostCommand.check(qemuImg, ["resize", "-q", "-f", current.format.qemuName, path, String(sizeBytes)],
                                    purpose: "resizing \(path)")
    }

    /// Copies `sourcePath` into a new disk of another format or type (Convert-VHD), reporting percent.
    public func convert(sourcePath: String, destinationPath: String, format: VHDFormat, type: VHDType,
                        progress: @escaping @Sendable (Int) -> Void) async throws {
        let source = try await info(path: sourcePath)
        try DiskPath.requireAbsent(destinationPath)
        guard type != .differencing else {
            throw ViridianError(.invalidArgument, "convert makes fixed or dynamic disks; use vhd new --parent for a differencing one")
        }
        try await DiskPath.writeAtomically(to: destinationPath) { temporary in
            try await HostCommand.stream(qemuImg, ["convert", "-p", "-f", source.format.qemuName, "-O", format.qemuName]
                + format.creationOptions(type: type) + [sourcePath, temporary],
                purpose: "converting \(sourcePath)", onOutput: QemuImgProgress.parser(progress))
        }
    }

    /// Folds a differencing disk into its parent and deletes it (Merge-VHD), reporting percent.
    /// - Returns: the parent's path.
    public func merge(path: String, progress: @escaping @Sendable (Int) -> Void) async throws -> String {
        let child = try await info(path: path)
        guard let parent = child.parentPath else {
            throw ViridianError(.invalidArgument, "\(path) is not a differencing disk: it has no parent to merge into")
        }
        let parentInfo = try await info(path: parent)
        if child.sizeBytes > parentInfo.sizeBytes && (parentInfo.format == .vhdx || parentInfo.format == .vhd) {
            throw ViridianError(.invalidArgument,
                                "\(path) is larger than its \(parentInfo.format.rawValue.uppercased()) parent, which QEMU cannot grow; convert the parent to qcow2 first")
        }
        try await HostCommand.stream(qemuImg, ["commit", "-p", "-f", child.format.qemuName, path],
                                     purpose: "merging \(path) into \(parent)", onOutput: QemuImgProgress.parser(progress))
        try FileManager.default.removeItem(atPath: path)
        return parent
    }
}
