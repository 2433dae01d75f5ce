import struct Foundation.Date

/// Which checkpoints a VM takes (Hyper-V's `CheckpointType`), set with `viridian vm set --checkpoint-type`.
public enum CheckpointType: String, Codable, Sendable, CaseIterable {
    /// Disks only, with the guest's file systems frozen around the point in time; applied, the VM is Off
    /// and boots clean. When the guest cannot freeze, a standard checkpoint is taken instead (with a warning).
    case production = "Production"
    /// As production, but a guest that cannot freeze fails the checkpoint.
    case productionOnly = "ProductionOnly"
    /// Disks plus memory and device state; applied, the VM is Saved at that running moment.
    case standard = "Standard"
    /// No checkpoints.
    case disabled = "Disabled"

    /// The spelling the CLI takes (`production-only`).
    public var optionName: String {
        switch self {
        case .production: "production"
        case .productionOnly: "production-only"
        case .standard: "standard"
        case .disabled: "disabled"
        }
    }

    public init?(optionName: String) {
        guard let type = Self.allCases.first(where: { $0.optionName == optionName.lowercased() }) else { return nil }
        self = type
    }
}

/// What a checkpoint holds.
public enum CheckpointKind: String, Codable, Sendable {
    /// Disks, memory and device state.
    case standard = "Standard"
    /// Disks only, taken with the guest's file systems frozen (or of a VM that was Off).
    case production = "Production"
}

/// One checkpoint of a VM (Get-VMCheckpoint): a node of the VM's checkpoint tree.
public struct CheckpointInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// The checkpoint this one was taken after; nil for a root.
    public var parent: String?
    public var type: CheckpointKind
    public var createdAt: Date
    /// The VM's state when the checkpoint was taken.
    public var vmState: VMState
    /// True for the checkpoint the VM's current state ("Now") was last taken from or applied.
    public var isCurrent: Bool

    public init(id: String, name: String, parent: String?, type: CheckpointKind, createdAt: Date, vmState: VMState,
                isCurrent: Bool) {
        self.id = id
        self.name = name
        self.parent = parent
        self.type = type
        self.createdAt = createdAt
        self.vmState = vmState
        self.isCurrent = isCurrent
    }
}

/// `POST /v1/vms/{name}/checkpoints` (Checkpoint-VM).
public struct NewCheckpointRequest: Codable, Sendable {
    /// The checkpoint's name; default: "VM - (date time)", as Hyper-V names them.
    public var name: String?

    public init(name: String? = nil) { self.name = name }
}

/// `PATCH /v1/vms/{name}/checkpoints/{checkpoint}` (Rename-VMCheckpoint).
public struct RenameCheckpointRequest: Codable, Sendable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// `POST /v1/vms/{name}/checkpoints/{checkpoint}/export` (Export-VMSnapshot): a self-contained copy of
/// the VM at that checkpoint, in a new folder named after the VM under `destinationPath`.
public struct ExportCheckpointRequest: Codable, Sendable {
    public var destinationPath: String

    public init(destinationPath: String) { self.destinationPath = destinationPath }
}

/// `POST /v1/vms/import` (Import-VM): registers the VM an export folder holds, its disks where they are.
public struct ImportVMRequest: Codable, Sendable {
    /// The export folder (the one holding `virtual-machine.json`).
    public var path: String
    /// A new name; default: the exported VM's.
    public var name: String?

    public init(path: String, name: String? = nil) {
        self.path = path
        self.name = name
    }
}

/// What an export folder holds besides its files, in `virtual-machine.json` (written last: a folder
/// without it is an unfinished export). Files are named relative to the folder.
public struct ExportedVM: Codable, Sendable {
    public static let fileName = "virtual-machine.json"
    public static let currentFormat = 1

    public var format: Int
    public var name: String
    public var notes: String
    /// Hard disks name their files in the folder; DVDs keep the host paths they had.
    public var configuration: VMConfiguration
    /// Each disk file's format, as Viridian wrote it.
    public var diskFormats: [String: VHDFormat]
    /// The memory and device state (a standard checkpoint): imported, the VM is Saved.
    public var savedState: String?
    /// A Generation 2 VM's UEFI variables.
    public var nvram: String?
    /// A virtual TPM's permanent state (`tpmStateFile` in the folder).
    public var tpmState: String?
    public var checkpoint: String
    public var exportedAt: Date

    /// The name a TPM's state has in an export.
    public static let tpmStateFile = "tpm-state.permall"

    public init(name: String, notes: String, configuration: VMConfiguration, diskFormats: [String: VHDFormat], savedState: String?,
                nvram: String?, tpmState: String? = nil, checkpoint: String, exportedAt: Date = Date()) {
        format = Self.currentFormat
        self.name = name
        self.notes = notes
        self.configuration = configuration
        self.diskFormats = diskFormats
        self.savedState = savedState
        self.nvram = nvram
        self.tpmState = tpmState
        self.checkpoint = checkpoint
        self.exportedAt = exportedAt
    }
}
