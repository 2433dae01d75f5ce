import struct Foundation.Date

/// What a backup point holds: every block of the VM's disks, or what changed since the point before.
public enum BackupKind: String, Codable, Sendable {
    case full
    case incremental
}

/// Which backup `vm backup` takes.
public enum BackupMode: String, Codable, Sendable, CaseIterable {
    /// Incremental when the VM's change tracking covers everything since the repository's last point
    /// of the VM; full otherwise (the job and the event log say why).
    case auto
    /// Every block.
    case full
    /// Only what changed; when that cannot be known for sure, the backup is full and says why.
    case incremental
}

/// `POST /v1/vms/{name}/backup`: one backup point of the VM into the repository `destinationPath`.
public struct BackupRequest: Codable, Sendable {
    /// The repository folder (absolute; it is made when missing, and may be an NFS mount).
    public var destinationPath: String
    public var mode: BackupMode
    /// True: no freeze of the guest's file systems (as a power cut would leave the disks).
    public var crashConsistent: Bool

    public init(destinationPath: String, mode: BackupMode = .auto, crashConsistent: Bool = false) {
        self.destinationPath = destinationPath
        self.mode = mode
        self.crashConsistent = crashConsistent
    }

    enum CodingKeys: String, CodingKey { case destinationPath, mode, crashConsistent }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        destinationPath = try container.decode(String.self, forKey: .destinationPath)
        mode = try container.decodeIfPresent(BackupMode.self, forKey: .mode) ?? .auto
        crashConsistent = try container.decodeIfPresent(Bool.self, forKey: .crashConsistent) ?? false
    }
}

/// One point of a VM's backup chain (`viridian backup list`).
public struct BackupPointInfo: Codable, Sendable, Equatable {
    /// The VM's name when it was backed up.
    public var vm: String
    public var vmID: String
    /// The point's name (`--point`): its UTC time, `20261202-184501`.
    public var point: String
    public var kind: BackupKind
    public var createdAt: Date
    /// Bytes the point's files take in the repository.
    public var bytes: Int64
    /// True when the guest's file systems were frozen for the point in time.
    public var applicationConsistent: Bool
    /// Why a backup asked to be incremental is full, when it is.
    public var note: String?

    public init(vm: String, vmID: String, point: String, kind: BackupKind, createdAt: Date, bytes: Int64,
                applicationConsistent: Bool, note: String?) {
        self.vm = vm
        self.vmID = vmID
        self.point = point
        self.kind = kind
        self.createdAt = createdAt
        self.bytes = bytes
        self.applicationConsistent = applicationConsistent
        self.note = note
    }
}

/// `POST /v1/backups/verify`: reads every stored block of the repository (or of one VM's chain)
/// against the checksums taken when it was written.
public struct VerifyBackupRequest: Codable, Sendable {
    public var path: String
    public var vm: String?

    public init(path: String, vm: String? = nil) {
        self.path = path
        self.vm = vm
    }
}

/// `POST /v1/backups/restore`: a point of a VM's chain as a new VM (`as`), or over the Off VM it came from.
public struct RestoreBackupRequest: Codable, Sendable {
    public var path: String
    public var vm: String
    /// The point; default: the newest.
    public var point: String?
    /// The new VM's name; nil restores over the original VM, which must be Off.
    public var `as`: String?

    public init(path: String, vm: String, point: String? = nil, as newName: String? = nil) {
        self.path = path
        self.vm = vm
        self.point = point
        self.as = newName
    }
}

/// `POST /v1/backups/prune`: keeps the newest `keep` points of a VM's chain, folding the older
/// ones into the oldest kept point, so every remaining point still restores.
public struct PruneBackupRequest: Codable, Sendable {
    public var path: String
    public var vm: String
    public var keep: Int

    public init(path: String, vm: String, keep: Int) {
        self.path = path
        self.vm = vm
        self.keep = keep
    }
}
