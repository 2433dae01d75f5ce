import AgentProtocol

/// One integration service of a VM, as `viridian vm ic` (Hyper-V's `Get-VMIntegrationService`) shows it.
public struct IntegrationServiceStatus: Codable, Sendable, Equatable {
    /// `heartbeat`, `shutdown`, `timesync`, `kvp`, `vss`, `fcopy`, `session`.
    public var name: String
    /// Hyper-V's name for the service.
    public var displayName: String
    public var enabled: Bool
    /// `OK`, `Degraded`, `No Contact`, `Lost Communication`, `Disabled`.
    public var primaryStatus: String
    /// Detail: the degraded reason, the clock skew, frozen file systems, the answering agent.
    public var secondaryStatus: String?
    /// The negotiated service version.
    public var version: Int?
    /// The guest's integration services release seen on this service.
    public var release: String?
    /// Which agent answers: `viridian-guest` or `qemu-guest-agent`.
    public var agent: String?

    public init(name: String, displayName: String, enabled: Bool, primaryStatus: String, secondaryStatus: String?,
                version: Int?, release: String?, agent: String?) {
        self.name = name
        self.displayName = displayName
        self.enabled = enabled
        self.primaryStatus = primaryStatus
        self.secondaryStatus = secondaryStatus
        self.version = version
        self.release = release
        self.agent = agent
    }
}

/// The primary status values.
public enum IntegrationPrimaryStatus {
    public static let ok = "OK"
    public static let degraded = "Degraded"
    public static let noContact = "No Contact"
    public static let lostCommunication = "Lost Communication"
    public static let disabled = "Disabled"
}

/// Body of `PUT /v1/vms/{name}/integration-services/{service}`.
public struct SetIntegrationServiceRequest: Codable, Sendable {
    public var enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }
}

/// One row of `viridian ic report`: a VM's integration services release against the host's.
public struct IntegrationReportEntry: Codable, Sendable, Equatable {
    public var vm: String
    public var state: VMState
    /// The guest's release, when its agent ever negotiated.
    public var version: String?
    public var hostVersion: String
    public var agent: String?
    /// The heartbeat's primary status.
    public var status: String
    /// True when the guest runs Viridian's agent at an older release than the host ships.
    public var upgradeDue: Bool

    public init(vm: String, state: VMState, version: String?, hostVersion: String, agent: String?, status: String,
                upgradeDue: Bool) {
        self.vm = vm
        self.state = state
        self.version = version
        self.hostVersion = hostVersion
        self.agent = agent
        self.status = status
        self.upgradeDue = upgradeDue
    }
}

/// A VM's Data Exchange items (`viridian vm kvp`).
public struct KVPItems: Codable, Sendable, Equatable {
    /// Every item the guest reports: intrinsic ones and its user pool.
    public var guest: [String: String]
    /// Only the guest's user pool.
    public var guestUser: [String: String]
    /// The host pool, sent to the guest.
    public var host: [String: String]

    public init(guest: [String: String], guestUser: [String: String], host: [String: String]) {
        self.guest = guest
        self.guestUser = guestUser
        self.host = host
    }
}

/// Body of `PATCH /v1/vms/{name}/kvp`: host pool changes.
public struct KVPChangeRequest: Codable, Sendable {
    public var set: [String: String]
    public var remove: [String]

    public init(set: [String: String] = [:], remove: [String] = []) {
        self.set = set
        self.remove = remove
    }

    /// Each field is optional, as the API document says.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        set = try container.decodeIfPresent([String: String].self, forKey: .set) ?? [:]
        remove = try container.decodeIfPresent([String].self, forKey: .remove) ?? []
    }

    private enum CodingKeys: String, CodingKey { case set, remove }
}

/// Body of `POST /v1/vms/{name}/freeze`.
public struct FreezeVMRequest: Codable, Sendable {
    /// The guest thaws by itself after this long (default 60 s, at most 600).
    public var timeoutSeconds: Int?
    public init(timeoutSeconds: Int?) { self.timeoutSeconds = timeoutSeconds }
}

/// What a freeze or thaw did.
public struct FreezeResult: Codable, Sendable {
    public var frozen: Bool
    public var filesystems: [String]
    public var agent: String

    public init(frozen: Bool, filesystems: [String], agent: String) {
        self.frozen = frozen
        self.filesystems = filesystems
        self.agent = agent
    }
}

/// Body of `POST /v1/vms/{name}/copy-file`. Host paths are the administrator's, never the guest's.
public struct CopyFileRequest: Codable, Sendable {
    public var source: String
    public var destination: String
    public var fromGuest: Bool
    public var createFullPath: Bool
    public var overwrite: Bool

    public init(source: String, destination: String, fromGuest: Bool, createFullPath: Bool, overwrite: Bool) {
        self.source = source
        self.destination = destination
        self.fromGuest = fromGuest
        self.createFullPath = createFullPath
        self.overwrite = overwrite
    }
}

/// Body of `POST /v1/integration/update`.
public struct IntegrationUpdateRequest: Codable, Sendable {
    /// VM names; empty with `all`.
    public var vms: [String]
    public var all: Bool
    /// Reinstall even when the guest already runs the host's release.
    public var force: Bool
    /// Install this agent binary instead of the one the host ships (a hotfix build).
    public var agentFile: String?

    public init(vms: [String], all: Bool, force: Bool, agentFile: String? = nil) {
        self.vms = vms
        self.all = all
        self.force = force
        self.agentFile = agentFile
    }

    /// Each field is optional, as the API document says (no VMs, not all, not forced).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        vms = try container.decodeIfPresent([String].self, forKey: .vms) ?? []
        all = try container.decodeIfPresent(Bool.self, forKey: .all) ?? false
        force = try container.decodeIfPresent(Bool.self, forKey: .force) ?? false
        agentFile = try container.decodeIfPresent(String.self, forKey: .agentFile)
    }

    private enum CodingKeys: String, CodingKey { case vms, all, force, agentFile }
}

/// How one VM's agent upgrade ended.
public enum IntegrationUpdateOutcome: String, Codable, Sendable {
    case upgraded
    case upToDate = "up-to-date"
    case rolledBack = "rolled-back"
    case failed
}

/// The per-VM outcome of `viridian ic update`.
public struct IntegrationUpdateResult: Codable, Sendable, Equatable {
    public var vm: String
    public var result: IntegrationUpdateOutcome
    public var from: String?
    public var to: String?
    public var message: String

    public init(vm: String, result: IntegrationUpdateOutcome, from: String?, to: String?, message: String) {
        self.vm = vm
        self.result = result
        self.from = from
        self.to = to
        self.message = message
    }
}
