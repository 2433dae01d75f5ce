/// The on-disk format of a virtual hard disk.
public enum VHDFormat: String, Codable, Sendable, CaseIterable {
    case vhdx, vhd, qcow2, raw

    /// The name qemu-img uses for the format.
    public var qemuName: String { self == .vhd ? "vpc" : rawValue }

    /// The format a file name's extension implies.
    public static func from(path: String) -> VHDFormat? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        return VHDFormat(rawValue: path[path.index(after: dot)...].lowercased())
            ?? (path.lowercased().hasSuffix(".img") ? .raw : nil)
    }

    /// The format qemu-img reports (`vpc`, `qcow2`…).
    public init?(qemuName: String) {
        self.init(rawValue: qemuName == "vpc" ? "vhd" : qemuName)
    }
}

/// How a disk's space is allocated (Hyper-V's VHD types).
public enum VHDType: String, Codable, Sendable {
    case fixed = "Fixed"
    case dynamic = "Dynamic"
    case differencing = "Differencing"
}

/// `GET /v1/vhds?path=…`: what a disk file is (Get-VHD).
public struct VHDInfo: Codable, Sendable {
    public var path: String
    public var format: VHDFormat
    /// Fixed or Dynamic when the format records it, Differencing when it has a parent; nil when unknown (VHDX).
    public var type: VHDType?
    public var sizeBytes: UInt64
    public var fileSizeBytes: UInt64
    public var parentPath: String?
    /// The VM the disk is attached to, if any.
    public var attachedTo: String?

    public init(path: String, format: VHDFormat, type: VHDType?, sizeBytes: UInt64, fileSizeBytes: UInt64,
                parentPath: String?, attachedTo: String?) {
        self.path = path
        self.format = format
        self.type = type
        self.sizeBytes = sizeBytes
        self.fileSizeBytes = fileSizeBytes
        self.parentPath = parentPath
        self.attachedTo = attachedTo
    }
}

/// `POST /v1/vhds`: a new disk (New-VHD). Format comes from the extension unless given.
public struct NewVHDRequest: Codable, Sendable {
    public var path: String
    public var sizeBytes: UInt64?
    public var format: VHDFormat?
    public var type: VHDType?
    /// For a differencing disk: the parent. The child is qcow2 whatever the parent's format.
    public var parentPath: String?

    public init(path: String, sizeBytes: UInt64? = nil, format: VHDFormat? = nil, type: VHDType? = nil, parentPath: String? = nil) {
        self.path = path
        self.sizeBytes = sizeBytes
        self.format = format
        self.type = type
        self.parentPath = parentPath
    }
}

/// `POST /v1/vhds/resize` (Resize-VHD).
public struct ResizeVHDRequest: Codable, Sendable {
    public var path: String
    public var sizeBytes: UInt64

    public init(path: String, sizeBytes: UInt64) {
        self.path = path
        self.sizeBytes = sizeBytes
    }
}

/// `POST /v1/vhds/convert` (Convert-VHD): a job.
public struct ConvertVHDRequest: Codable, Sendable {
    public var sourcePath: String
    public var destinationPath: String
    public var format: VHDFormat?
    public var type: VHDType?
    /// The source's format when Viridian does not know the file yet and it is raw (never guessed).
    public var sourceFormat: VHDFormat?

    public init(sourcePath: String, destinationPath: String, format: VHDFormat? = nil, type: VHDType? = nil,
                sourceFormat: VHDFormat? = nil) {
        self.sourcePath = sourcePath
        self.destinationPath = destinationPath
        self.format = format
        self.type = type
        self.sourceFormat = sourceFormat
    }
}

/// `POST /v1/vhds/merge` (Merge-VHD): fold a differencing disk into its parent and delete it; a job.
public struct MergeVHDRequest: Codable, Sendable {
    public var path: String

    public init(path: String) { self.path = path }
}
