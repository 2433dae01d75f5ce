import struct Foundation.Date

/// `POST /v1/vms/{name}/backup/export`: serve the VM's disks at one instant over NBD with TLS, for
/// backup tools of other makers (pull mode), with a bitmap of the blocks changed since the VM's
/// last backup or export.
public struct BackupExportRequest: Codable, Sendable {
    /// `auto`: with the changed-block bitmap when the change tracking can vouch for it; `full`:
    /// without (the tool reads everything). `incremental` is `auto` that says so when it cannot be.
    public var mode: BackupMode
    /// True: no freeze of the guest's file systems.
    public var crashConsistent: Bool
    /// `ADDRESS[:PORT]` the NBD server listens on; default 127.0.0.1, the first free port from 10809.
    public var listen: String?
    /// Seconds after which an export not ended is ended as failed (its changes kept for the next); default 3600.
    public var timeoutSeconds: Int?

    public init(mode: BackupMode = .auto, crashConsistent: Bool = false, listen: String? = nil, timeoutSeconds: Int? = nil) {
        self.mode = mode
        self.crashConsistent = crashConsistent
        self.listen = listen
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey { case mode, crashConsistent, listen, timeoutSeconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mode = try container.decodeIfPresent(BackupMode.self, forKey: .mode) ?? .auto
        crashConsistent = try container.decodeIfPresent(Bool.self, forKey: .crashConsistent) ?? false
        listen = try container.decodeIfPresent(String.self, forKey: .listen)
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }
}

/// Where an export stands.
public enum BackupExportState: String, Codable, Sendable {
    /// The NBD server serves the point in time.
    case serving
    /// Ended by `--export-stop`: the next export's bitmap counts from this one.
    case completed
    /// Ended as failed (`--discard`, the timeout, or viridiand stopping): its changes count toward the next.
    case discarded
    /// The VM's worker ended under it (the guest shut down): the next backup or export reads everything.
    case lost
}

/// One exported disk.
public struct BackupExportDisk: Codable, Sendable, Equatable {
    /// The VM's drive index.
    public var index: Int
    /// The NBD export name (`disk0`, …).
    public var name: String
    /// The guest-visible size.
    public var sizeBytes: Int64
    /// A libnbd URI (`nbdinfo`, `nbdcopy`): `nbds://viridian@HOST:PORT/disk0?tls-psk-file=…`.
    public var uri: String

    public init(index: Int, name: String, sizeBytes: Int64, uri: String) {
        self.index = index
        self.name = name
        self.sizeBytes = sizeBytes
        self.uri = uri
    }
}

/// An NBD export of a VM's point in time (`viridian vm backup NAME --export`).
public struct BackupExportInfo: Codable, Sendable, Equatable {
    public var vm: String
    public var state: BackupExportState
    /// This export's change-tracking token: a tool that completes it keeps the token, and uses the
    /// next export's bitmap only when that export's `changedSince` equals it.
    public var token: String
    /// The token the bitmap counts from (an earlier export's, or of a point of a Viridian
    /// repository); nil when there is no bitmap and every block must be read.
    public var changedSince: String?
    /// The NBD meta context of the changed blocks (`qemu:dirty-bitmap:viridian-changes`); nil when there is no bitmap.
    public var bitmapContext: String?
    /// Why there is no bitmap, when there is none.
    public var fullBecause: String?
    public var pointInTime: Date
    /// True when the guest's file systems were frozen for the instant.
    public var applicationConsistent: Bool
    public var address: String
    public var port: Int
    /// The TLS identity and the pre-shared key file (`identity:hexkey`, gnutls' psktool format), readable by group `viridian`.
    public var tlsUsername: String
    public var tlsPSKFile: String
    public var disks: [BackupExportDisk]
    /// When the export ends by itself as failed, unless ended before.
    public var expiresAt: Date

    public init(vm: String, state: BackupExportState, token: String, changedSince: String?, bitmapContext: String?, fullBecause: String?,
                pointInTime: Date, applicationConsistent: Bool, address: String, port: Int, tlsUsername: String, tlsPSKFile: String,
                disks: [BackupExportDisk], expiresAt: Date) {
        self.vm = vm
        self.state = state
        self.token = token
        self.changedSince = changedSince
        self.bitmapContext = bitmapContext
        self.fullBecause = fullBecause
        self.pointInTime = pointInTime
        self.applicationConsistent = applicationConsistent
        self.address = address
        self.port = port
        self.tlsUsername = tlsUsername
        self.tlsPSKFile = tlsPSKFile
        self.disks = disks
        self.expiresAt = expiresAt
    }
}
