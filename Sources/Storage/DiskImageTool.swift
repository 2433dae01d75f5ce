import APITypes
import Foundation
import HostTools

/// Virtual hard disks through `qemu-img`: create, inspect, resize, convert, merge.
///
/// Every operation on an existing disk takes the facts Viridian recorded (`DiskImage`) and passes
/// the format to qemu-img explicitly (`-f`, `-F`, `--image-opts`); only `probe` asks a file what it
/// is, once, when the administrator names it. Every operation that writes a new file writes it under
/// a temporary name and publishes it without replacing anything, so a failure, a cancel or a race
/// leaves nothing half-made and never overwrites a disk.
public struct DiskImageTool: Sendable {
    /// The `qemu-img` binary.
    public let qemuImg: String
    /// A shielded VM's key file (`encrypted(with:)`): every qcow2 this tool opens or makes has a LUKS layer.
    public private(set) var encryptionKeyFile: String?

    /// Finds `qemu-img`.
    /// - Throws: `missingDependency` naming the `qemu-utils` package.
    public init() throws {
        qemuImg = try HostExecutable.locate("qemu-img", package: "qemu-utils")
    }

    /// The same tool for a shielded VM's disks (nil: plain disks): each qcow2 it opens or makes has
    /// its LUKS layer opened or made with the passphrase in `keyFile`, which qemu-img reads itself
    /// (a `secret` object), so the key is never on a command line.
    public func encrypted(with keyFile: String?) -> DiskImageTool {
        var tool = self
        tool.encryptionKeyFile = keyFile
        return tool
    }

    /// The id of the secret object the key file becomes.
    static let secretID = "diskkey"

    /// `--object secret,…` when the tool is keyed.
    var secretArguments: [String] {
        encryptionKeyFile.map { ["--object", "secret,id=\(Self.secretID),file=\($0.replacingOccurrences(of: ",", with: ",,")),format=raw"] } ?? []
    }

    /// The creation options of a new encrypted qcow2 when the tool is keyed.
    var encryptionCreationOptions: [String] {
        encryptionKeyFile == nil ? [] : ["-o", "encrypt.format=luks,encrypt.key-secret=\(Self.secretID)"]
    }

    /// The secret each qcow2 node of `--image-opts` names when the tool is keyed.
    var imageSecret: String? { encryptionKeyFile == nil ? nil : Self.secretID }

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
                purpose: "creating \(path)", timeout: .seconds(3600))
        }
    }

    /// Creates a qcow2 differencing disk whose parent is `parent` (any format, VHDX included).
    public func createDifferencing(path: String, parent: DiskImage) async throws {
        try DiskPath.requireAbsent(path)
        guard VHDFormat.from(path: path) == .qcow2 else {
            throw ViridianError(.invalidArgument,
                                "a differencing disk must be a .qcow2 file (QEMU gives VHDX and VHD no parent), not \(path)")
        }
        try await DiskPath.writeAtomically(to: path) { temporary in
            try await HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", "-b", parent.path,
                                                  "-F", parent.format.qemuName, temporary],
                                        purpose: "creating the differencing disk \(path)")
        }
    }

    /// The one probe of a file the administrator names: its format as qemu-img recognises it and,
    /// for a differencing disk, its parent. Raw is never guessed: a file that is no VHDX, VHD or
    /// qcow2 image is refused unless `declared` says `raw`. Only regular files are disks.
    public func probe(path: String, declared: VHDFormat?) async throws -> DiskProbe {
        try DiskPath.requireRegularFile(path)
        let formatArguments = declared.map { ["-f", $0.qemuName] } ?? []
        let report = try await readInfo(path, formatArguments)
        guard let format = VHDFormat(qemuName: report.format) else {
            throw ViridianError(.invalidArgument, "\(path) is a \(report.format) image, which Viridian does not manage")
        }
        if declared == nil, format == .raw {
            throw ViridianError(.invalidArgument, "\(path) is not a VHDX, VHD or qcow2 image; if it is a raw disk image, "
                                + "say so with --format raw")
        }
        let parent = report.fullBackingFilename ?? report.backingFilename
        let parentFormat = report.backingFilenameFormat.flatMap(VHDFormat.init(qemuName:))
        if parent != nil, parentFormat == nil {
            throw ViridianError(.invalidArgument, "\(path) names its parent without the parent's format; "
                                + "set it with: qemu-img rebase -u -F FORMAT -b PARENT \(path)")
        }
        return DiskProbe(format: format, parentPath: parent, parentFormat: parentFormat, sizeBytes: report.virtualSize)
    }

    /// What the recorded disk `image` is (Get-VHD), read with its recorded format. Reads with shared
    /// locks, so it works on a disk a VM uses. A parent in the file's header that is not the recorded
    /// one is refused: the file changed outside Viridian.
    public func info(_ image: DiskImage) async throws -> VHDInfo {
        try DiskPath.requireRegularFile(image.path)
        let report = try await readInfo(image.path, ["-f", image.format.qemuName])
        if image.format == .qcow2 {
            // A parent named relative to its child (as backup points name theirs) is the same file.
            let headerParent = (report.fullBackingFilename ?? report.backingFilename).map { ($0 as NSString).standardizingPath }
            guard headerParent == image.parentPath.map({ ($0 as NSString).standardizingPath }) else {
                throw ViridianError(.conflict, "\(image.path) names the parent \(headerParent ?? "(none)") in its header, "
                                    + "but Viridian recorded \(image.parentPath ?? "none"); the file changed outside Viridian")
            }
        }
        return VHDInfo(path: image.path, format: image.format,
                       type: report.vhdType(format: image.format, hasParent: image.parentPath != nil),
                       sizeBytes: report.virtualSize, fileSizeBytes: report.actualSize ?? 0,
                       parentPath: image.parentPath, attachedTo: nil)
    }

    /// Grows a disk to `sizeBytes` (Resize-VHD). Shrinking and VHDX are refused with the reason.
    public func resize(_ image: DiskImage, sizeBytes: UInt64) async throws {
        try await checkResize(image, sizeBytes: sizeBytes)
        try await HostCommand.check(qemuImg, ["resize", "-q", "-f", image.format.qemuName, image.path, String(sizeBytes)],
                                    purpose: "resizing \(image.path)")
    }

    /// Whether the disk can grow to `sizeBytes`, whoever grows it (qemu-img, or QEMU for a running VM).
    /// - Throws: `invalidArgument` for VHDX, a shrink, or a size beyond the format's limit.
    public func checkResize(_ image: DiskImage, sizeBytes: UInt64) async throws {
        let current = try await info(image)
        guard current.format != .vhdx else {
            throw ViridianError(.invalidArgument,
                                "QEMU cannot resize VHDX disks; convert it to qcow2 first (viridian vhd convert)")
        }
        guard sizeBytes >= current.sizeBytes else {
            throw ViridianError(.invalidArgument,
                                "shrinking \(image.path) from \(ByteSize.format(current.sizeBytes)) would lose data; only growing is supported")
        }
        guard sizeBytes <= current.format.maximumSizeBytes else {
            throw ViridianError(.invalidArgument, "\(current.format.rawValue.uppercased()) disks hold at most \(ByteSize.format(current.format.maximumSizeBytes))")
        }
    }

    /// Copies the disk whose recorded chain is `chain` (the disk first) into a new flat disk of
    /// another format or type (Convert-VHD), reporting percent.
    /// A keyed tool (`encrypted(with:)`) reads an encrypted chain and writes an encrypted qcow2.
    public func convert(chain: [DiskImage], destinationPath: String, format: VHDFormat, type: VHDType,
                        progress: @escaping @Sendable (Int) -> Void) async throws {
        guard let source = chain.first else { throw ViridianError(.invalidArgument, "nothing to convert") }
        _ = try await info(source)
        try DiskPath.requireAbsent(destinationPath)
        guard type != .differencing else {
            throw ViridianError(.invalidArgument, "convert makes fixed or dynamic disks; use vhd new --parent for a differencing one")
        }
        if encryptionKeyFile != nil, format != .qcow2 { throw ViridianError(.invalidArgument, "only qcow2 disks are encrypted") }
        try await DiskPath.writeAtomically(to: destinationPath) { temporary in
            try await HostCommand.stream(qemuImg, ["convert", "-p"] + secretArguments + ["--image-opts", DiskImage.imageOptions(chain, secret: imageSecret),
                                                   "-O", format.qemuName] + format.creationOptions(type: type) + encryptionCreationOptions + [temporary],
                                         purpose: "converting \(source.path)", onOutput: QemuImgProgress.parser(progress))
        }
    }

    /// Folds the differencing disk `child` into its recorded parent `parent` and deletes the child
    /// (Merge-VHD), reporting percent.
    public func merge(child: DiskImage, into parent: DiskImage, progress: @escaping @Sendable (Int) -> Void) async throws {
        let childInfo = try await info(child)
        let parentInfo = try await info(parent)
        if childInfo.sizeBytes > parentInfo.sizeBytes && (parent.format == .vhdx || parent.format == .vhd) {
            throw ViridianError(.invalidArgument,
                                "\(child.path) is larger than its \(parent.format.rawValue.uppercased()) parent, which QEMU cannot grow; convert the parent to qcow2 first")
        }
        try await commit(child: child, into: parent, progress: progress)
        try FileManager.default.removeItem(atPath: child.path)
    }

    private func readInfo(_ path: String, _ formatArguments: [String]) async throws -> QemuImgInfo {
        let output = try await HostCommand.run(qemuImg, ["info", "-U", "--output=json"] + formatArguments + [path])
        guard output.exitCode == 0 else {
            if Self.saysLogMustBeReplayed(output.standardError) {
                throw ViridianError(.invalidState, "\(path) is a VHDX whose log must be replayed (Hyper-V leaves one after a crash); "
                                    + "replay it with: viridian vhd repair \(path)")
            }
            throw ViridianError(.invalidArgument, "qemu-img cannot read \(path): \(output.errorSummary)")
        }
        return try QemuImgInfo.decode(output.standardOutput)
    }
}
