import APITypes
import Foundation

extension VHDFormat {
    /// `qemu-img create -o` options that make a disk of `type`.
    func creationOptions(type: VHDType) -> [String] {
        switch (self, type) {
        case (.vhdx, .fixed), (.vhd, .fixed): ["-o", "subformat=fixed"]
        case (.vhdx, _), (.vhd, _): ["-o", "subformat=dynamic"]
        case (.qcow2, .fixed): ["-o", "preallocation=falloc"]
        case (.raw, .fixed): ["-o", "preallocation=falloc"]
        case (.qcow2, _), (.raw, _): []
        }
    }

    /// The largest disk the format can describe (VHD: 2040 GiB; VHDX: 64 TiB, as in Hyper-V).
    var maximumSizeBytes: UInt64 {
        switch self {
        case .vhd: 2040 << 30
        case .vhdx: 64 << 40
        case .qcow2, .raw: 64 << 40
        }
    }
}

/// The fields of `qemu-img info --output=json` Viridian reads.
struct QemuImgInfo: Decodable {
    var format: String
    var virtualSize: UInt64
    var actualSize: UInt64?
    var backingFilename: String?
    var fullBackingFilename: String?
    var backingFilenameFormat: String?

    enum CodingKeys: String, CodingKey {
        case format
        case virtualSize = "virtual-size"
        case actualSize = "actual-size"
        case backingFilename = "backing-filename"
        case fullBackingFilename = "full-backing-filename"
        case backingFilenameFormat = "backing-filename-format"
    }

    static func decode(_ json: String) throws -> QemuImgInfo {
        do {
            return try JSONDecoder().decode(QemuImgInfo.self, from: Data(json.utf8))
        } catch {
            throw ViridianError(.engineFailure, "qemu-img info printed something unexpected", cause: error)
        }
    }

    /// The Hyper-V type where it can be told: differencing by its parent, qcow2 and raw by allocation.
    /// qemu-img does not report VHDX's and VHD's subformat, so those stay unknown (nil).
    func vhdType(format: VHDFormat, hasParent: Bool) -> VHDType? {
        if hasParent { return .differencing }
        guard format == .qcow2 || format == .raw else { return nil }
        return (actualSize ?? 0) >= virtualSize ? .fixed : .dynamic
    }
}
