import APITypes
import Foundation
import GRDB

/// How a disk file came to be known to Viridian.
public enum DiskOrigin: String, Codable, Sendable {
    /// Viridian made the file (`vhd new`, `vhd convert`, a VM's root disk, a disk a move or image build made).
    case created
    /// The administrator named an existing file (attached to a VM, or a parent of such a file).
    case attached
}

/// What Viridian recorded about a disk file when it was created or first named: its format and
/// its parent. These are facts from that moment, never read back from a file a guest may have
/// written, and every later use passes them to QEMU and qemu-img explicitly.
public struct DiskRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "disk"

    public var path: String
    public var format: VHDFormat
    /// The parent of a differencing disk (itself recorded).
    public var parentPath: String?
    public var origin: DiskOrigin
    /// The VM a created disk was made for (its root disk, a disk a move brought); nil otherwise.
    public var ownerVMID: String?
    public var recordedAt: Date

    public init(path: String, format: VHDFormat, parentPath: String?, origin: DiskOrigin, ownerVMID: String?,
                recordedAt: Date = Date()) {
        self.path = path
        self.format = format
        self.parentPath = parentPath
        self.origin = origin
        self.ownerVMID = ownerVMID
        self.recordedAt = recordedAt
    }
}

extension Inventory {
    /// The record of the disk at `path`, if Viridian knows it.
    public func disk(path: String) throws -> DiskRecord? {
        do {
            return try database.read { try DiskRecord.fetchOne($0, key: path) }
        } catch {
            throw ViridianError(.internalError, "cannot read the disk records", cause: error)
        }
    }

    /// The disks whose parent is `path`.
    public func disks(withParent path: String) throws -> [DiskRecord] {
        do {
            return try database.read { try DiskRecord.filter(Column("parentPath") == path).order(Column("path")).fetchAll($0) }
        } catch {
            throw ViridianError(.internalError, "cannot read the disk records", cause: error)
        }
    }

    /// Records (or replaces the record of) a disk.
    public func save(_ disk: DiskRecord) throws {
        do {
            try database.write { try disk.save($0) }
        } catch {
            throw ViridianError(.internalError, "cannot record the disk \(disk.path)", cause: error)
        }
    }

    /// Forgets a disk whose file was deleted or replaced.
    public func deleteDisk(path: String) throws {
        do {
            _ = try database.write { try DiskRecord.deleteOne($0, key: path) }
        } catch {
            throw ViridianError(.internalError, "cannot remove the record of \(path)", cause: error)
        }
    }
}

extension Inventory {
    /// The disks recorded under `folder`.
    public func disks(inFolder folder: String) throws -> [DiskRecord] {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        do {
            return try database.read { db in
                try DiskRecord.filter(Column("path").like(Self.likePattern(prefix) + "%", escape: "\\")).order(Column("path")).fetchAll(db)
            }
        } catch {
            throw ViridianError(.internalError, "cannot read the disk records", cause: error)
        }
    }

    /// `text` with LIKE's wildcards escaped.
    static func likePattern(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
