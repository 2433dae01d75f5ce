/// How the memory stream of a live migration is compressed.
public enum MigrationCompression: String, Codable, Sendable, CaseIterable {
    case none
    /// XOR-based delta compression of re-sent pages (good for pages that change a little).
    case xbzrle
    /// zlib over multifd channels.
    case zlib
    /// zstd over multifd channels.
    case zstd
}

/// `POST /v1/vms/{name}/move` (Move-VM): to another host, with or without its storage.
public struct MoveVMRequest: Codable, Sendable {
    /// The peer's name (`viridian host peer list`).
    public var destination: String
    /// Copy the VM's disks to the destination (shared-nothing); otherwise the destination must see the same paths.
    public var includeStorage: Bool
    /// Where the destination puts the disks; default: its own disk folder.
    public var destinationPath: String?
    /// Cap on the migration stream, MiB/s; default: no cap.
    public var bandwidthMiBps: Int?
    /// The longest pause the guest may see at switchover, milliseconds; default 300.
    public var downtimeMilliseconds: Int?
    public var compression: MigrationCompression?
    /// Connections for the memory stream (multifd); default 1.
    public var channels: Int?

    public init(destination: String, includeStorage: Bool = false, destinationPath: String? = nil,
                bandwidthMiBps: Int? = nil, downtimeMilliseconds: Int? = nil, compression: MigrationCompression? = nil,
                channels: Int? = nil) {
        self.destination = destination
        self.includeStorage = includeStorage
        self.destinationPath = destinationPath
        self.bandwidthMiBps = bandwidthMiBps
        self.downtimeMilliseconds = downtimeMilliseconds
        self.compression = compression
        self.channels = channels
    }

    /// Only `destination` is required, as the API document says; a move without `includeStorage` keeps the disks where they are.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        destination = try container.decode(String.self, forKey: .destination)
        includeStorage = try container.decodeIfPresent(Bool.self, forKey: .includeStorage) ?? false
        destinationPath = try container.decodeIfPresent(String.self, forKey: .destinationPath)
        bandwidthMiBps = try container.decodeIfPresent(Int.self, forKey: .bandwidthMiBps)
        downtimeMilliseconds = try container.decodeIfPresent(Int.self, forKey: .downtimeMilliseconds)
        compression = try container.decodeIfPresent(MigrationCompression.self, forKey: .compression)
        channels = try container.decodeIfPresent(Int.self, forKey: .channels)
    }

    private enum CodingKeys: String, CodingKey {
        case destination, includeStorage, destinationPath, bandwidthMiBps, downtimeMilliseconds, compression, channels
    }
}

/// `POST /v1/vms/{name}/move-storage` (Move-VMStorage): move a VM's disks to another folder on this host.
public struct MoveStorageRequest: Codable, Sendable {
    public var destinationPath: String

    public init(destinationPath: String) {
        self.destinationPath = destinationPath
    }
}

/// `POST /v1/host/drain`: move every VM to the peers (for maintenance).
public struct DrainRequest: Codable, Sendable {
    /// Peers to use; default: every peer.
    public var peers: [String]?

    public init(peers: [String]? = nil) {
        self.peers = peers
    }
}

/// `GET /v1/host/drain`: the last or current drain.
public struct DrainStatus: Codable, Sendable {
    /// The drain job; nil when the host was never drained since viridiand started.
    public var job: JobInfo?
    /// One move job per VM.
    public var moves: [JobInfo]

    public init(job: JobInfo?, moves: [JobInfo]) {
        self.job = job
        self.moves = moves
    }
}
