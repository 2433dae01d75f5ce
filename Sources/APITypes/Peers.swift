import struct Foundation.Date

/// A host this host trusts for migration (`viridian host peer list`).
public struct PeerInfo: Codable, Sendable {
    public var name: String
    /// Where its migration listener is: `ADDR:PORT`.
    public var address: String
    /// The subject of the peer's CA certificate.
    public var certificateSubject: String
    /// SHA-256 of the peer's CA certificate (DER), hex.
    public var fingerprint: String
    public var addedAt: Date
    /// `Connected`, or why the peer cannot be reached; nil when not checked.
    public var status: String?
    /// The host name and Viridian version the peer reported, when connected.
    public var reportedHostName: String?
    public var reportedVersion: String?

    public init(name: String, address: String, certificateSubject: String, fingerprint: String, addedAt: Date,
                status: String? = nil, reportedHostName: String? = nil, reportedVersion: String? = nil) {
        self.name = name
        self.address = address
        self.certificateSubject = certificateSubject
        self.fingerprint = fingerprint
        self.addedAt = addedAt
        self.status = status
        self.reportedHostName = reportedHostName
        self.reportedVersion = reportedVersion
    }
}

/// `POST /v1/host/peers`: trust a peer's CA certificate for migrations to and from it.
public struct AddPeerRequest: Codable, Sendable {
    public var name: String
    public var address: String
    /// The peer's CA certificate, PEM (what `viridian host certificate` prints on the peer).
    public var certificate: String

    public init(name: String, address: String, certificate: String) {
        self.name = name
        self.address = address
        self.certificate = certificate
    }
}

/// `GET /v1/host/certificate`: this host's CA certificate, for peers to trust.
public struct HostCertificate: Codable, Sendable {
    public var hostName: String
    public var certificate: String
    public var fingerprint: String

    public init(hostName: String, certificate: String, fingerprint: String) {
        self.hostName = hostName
        self.certificate = certificate
        self.fingerprint = fingerprint
    }
}

/// Host-wide migration settings (`viridian host set`), like Hyper-V's Set-VMHost.
public struct HostSettings: Codable, Sendable, Equatable {
    /// Simultaneous live migrations (incoming and outgoing are limited separately); more queue.
    public var maxMigrations: Int
    /// Simultaneous storage migrations; more queue.
    public var maxStorageMigrations: Int
    /// Networks for migration traffic in preference order (CIDRs); empty: any network.
    public var migrationNetworks: [String]
    /// Memory kept for the host itself: VMs (running, starting or arriving) get the rest.
    public var memoryReserveMiB: Int
    /// How much of the event log is kept.
    public var events: Retention
    /// How much of the job history is kept.
    public var jobs: Retention

    public static let defaults = HostSettings(maxMigrations: 2, maxStorageMigrations: 2, migrationNetworks: [],
                                              memoryReserveMiB: 512)
    /// The highest value either limit accepts.
    public static let limitRange = 1...64

    public init(maxMigrations: Int, maxStorageMigrations: Int, migrationNetworks: [String], memoryReserveMiB: Int,
                events: Retention = .eventDefaults, jobs: Retention = .jobDefaults) {
        self.maxMigrations = maxMigrations
        self.maxStorageMigrations = maxStorageMigrations
        self.migrationNetworks = migrationNetworks
        self.memoryReserveMiB = memoryReserveMiB
        self.events = events
        self.jobs = jobs
    }

    private enum CodingKeys: String, CodingKey {
        case maxMigrations, maxStorageMigrations, migrationNetworks, memoryReserveMiB, events, jobs
    }

    /// Decodes, giving settings stored before retention existed its defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxMigrations = try container.decode(Int.self, forKey: .maxMigrations)
        maxStorageMigrations = try container.decode(Int.self, forKey: .maxStorageMigrations)
        migrationNetworks = try container.decode([String].self, forKey: .migrationNetworks)
        memoryReserveMiB = try container.decode(Int.self, forKey: .memoryReserveMiB)
        events = try container.decodeIfPresent(Retention.self, forKey: .events) ?? .eventDefaults
        jobs = try container.decodeIfPresent(Retention.self, forKey: .jobs) ?? .jobDefaults
    }
}

/// How much history is kept: the newest `maxCount` entries, none older than `maxAgeDays`.
public struct Retention: Codable, Sendable, Equatable {
    public var maxCount: Int
    public var maxAgeDays: Int

    public init(maxCount: Int, maxAgeDays: Int) {
        self.maxCount = maxCount
        self.maxAgeDays = maxAgeDays
    }

    public static let eventDefaults = Retention(maxCount: 100_000, maxAgeDays: 90)
    public static let jobDefaults = Retention(maxCount: 10_000, maxAgeDays: 30)
    /// What either bound accepts.
    public static let countRange = 100...10_000_000
    public static let daysRange = 1...3650
}

/// `PATCH /v1/host/settings`: the settings to change; nil leaves one as it is.
public struct SetHostSettingsRequest: Codable, Sendable {
    public var maxMigrations: Int?
    public var maxStorageMigrations: Int?
    public var migrationNetworks: [String]?
    public var memoryReserveMiB: Int?
    public var keepEvents: Int?
    public var keepEventsDays: Int?
    public var keepJobs: Int?
    public var keepJobsDays: Int?

    public init(maxMigrations: Int? = nil, maxStorageMigrations: Int? = nil, migrationNetworks: [String]? = nil,
                memoryReserveMiB: Int? = nil, keepEvents: Int? = nil, keepEventsDays: Int? = nil,
                keepJobs: Int? = nil, keepJobsDays: Int? = nil) {
        self.keepEvents = keepEvents
        self.keepEventsDays = keepEventsDays
        self.keepJobs = keepJobs
        self.keepJobsDays = keepJobsDays
        self.maxMigrations = maxMigrations
        self.maxStorageMigrations = maxStorageMigrations
        self.migrationNetworks = migrationNetworks
        self.memoryReserveMiB = memoryReserveMiB
    }
}
