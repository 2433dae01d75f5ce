import APITypes
import Foundation
import GRDB

/// A checkpoint as stored: its place in the VM's tree, and the VM as it was — its configuration
/// with each hard disk's path naming the image that holds the disk at that moment (never written
/// again while the checkpoint exists), and for a standard checkpoint the file with its memory.
public struct CheckpointRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "checkpoint"

    public var id: String
    public var vmID: String
    public var name: String
    public var parentID: String?
    public var kind: CheckpointKind
    /// The VM's state when it was taken.
    public var vmState: VMState
    public var configuration: VMConfiguration
    /// The memory and device state (standard checkpoints), a file in the VM's checkpoint folder.
    public var memoryFile: String?
    /// A copy of a Generation 2 VM's UEFI variable store at that moment.
    public var nvramFile: String?
    /// A copy of the virtual TPM's permanent state at that moment (a standard checkpoint's memory
    /// file holds the running TPM as well).
    public var tpmStateFile: String?
    public var createdAt: Date

    public init(id: String, vmID: String, name: String, parentID: String?, kind: CheckpointKind, vmState: VMState,
                configuration: VMConfiguration, memoryFile: String?, nvramFile: String? = nil, tpmStateFile: String? = nil,
                createdAt: Date = Date()) {
        self.id = id
        self.vmID = vmID
        self.name = name
        self.parentID = parentID
        self.kind = kind
        self.vmState = vmState
        self.configuration = configuration
        self.memoryFile = memoryFile
        self.nvramFile = nvramFile
        self.tpmStateFile = tpmStateFile
        self.createdAt = createdAt
    }

    /// The images this checkpoint holds: its hard disks' paths.
    public var images: [String] {
        configuration.drives.filter { $0.kind == .hardDisk }.compactMap(\.path)
    }
}

/// Where a VM's current state stands in its checkpoint tree.
struct CheckpointPositionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "checkpointPosition"

    var vmID: String
    /// The checkpoint the current state was last taken from or applied; nil without checkpoints.
    var checkpointID: String?
}

/// One change of a VM's checkpoints, stored in one transaction: whatever the daemon is killed
/// at, the inventory holds the tree before the change or after it.
public struct CheckpointChange: Sendable {
    /// The VM, with its configuration (its drives' current files) after the change.
    public var vm: VMRecord
    public var saved: [CheckpointRecord] = []
    public var deleted: [String] = []
    /// The checkpoint "Now" hangs from after the change.
    public var current: String?
    /// Disks made or changed by the change (overlays, merged images).
    public var recordedDisks: [DiskRecord] = []
    /// Disks whose files the change deletes.
    public var forgottenDisks: [String] = []

    public init(vm: VMRecord, current: String?) {
        self.vm = vm
        self.current = current
    }
}

extension Inventory {
    /// The VM's checkpoints, oldest first.
    public func checkpoints(vmID: String) throws -> [CheckpointRecord] {
        do {
            return try database.read { try CheckpointRecord.filter(Column("vmID") == vmID).order(Column("createdAt")).fetchAll($0) }
        } catch {
            throw ViridianError(.internalError, "cannot read the checkpoints", cause: error)
        }
    }

    /// The checkpoint the VM's current state hangs from.
    public func currentCheckpoint(vmID: String) throws -> String? {
        do {
            return try database.read { try CheckpointPositionRecord.fetchOne($0, key: vmID)?.checkpointID }
        } catch {
            throw ViridianError(.internalError, "cannot read the checkpoints", cause: error)
        }
    }

    /// The names of checkpoints (of any VM) whose disks include `path`.
    public func checkpointsHolding(_ path: String) throws -> [String] {
        do {
            return try database.read { db in
                try CheckpointRecord.fetchAll(db).filter { $0.images.contains(path) }.map(\.name)
            }
        } catch {
            throw ViridianError(.internalError, "cannot read the checkpoints", cause: error)
        }
    }

    /// Stores `change` in one transaction. - Throws: `alreadyExists` for a checkpoint name the VM has already.
    public func apply(_ change: CheckpointChange) throws {
        do {
            try database.write { db in
                try change.vm.update(db)
                for id in change.deleted { _ = try CheckpointRecord.deleteOne(db, key: id) }
                for checkpoint in change.saved { try checkpoint.save(db) }
                try CheckpointPositionRecord(vmID: change.vm.id, checkpointID: change.current).save(db)
                for disk in change.recordedDisks { try disk.save(db) }
                for path in change.forgottenDisks { _ = try DiskRecord.deleteOne(db, key: path) }
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw ViridianError(.alreadyExists, "VM '\(change.vm.name)' has a checkpoint with that name already")
        } catch {
            throw ViridianError(.internalError, "cannot store the checkpoints of VM '\(change.vm.name)'", cause: error)
        }
    }
}
