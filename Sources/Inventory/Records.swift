import APITypes
import Foundation
import GRDB

/// A VM as stored: identity, state, and its hardware configuration (a JSON column).
public struct VMRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "vm"

    public var id: String
    public var name: String
    public var state: VMState
    public var configuration: VMConfiguration
    public var notes: String
    public var image: String?
    public var createdAt: Date
    /// When the guest last started running (for uptime); nil when Off or Saved.
    public var startedAt: Date?
    /// The VM was running when the host went down (shut down, or lost with its workers), so
    /// `AutomaticStartAction.startIfRunning` starts it when viridiand comes back.
    public var runningWhenHostStopped: Bool

    public init(id: String, name: String, state: VMState, configuration: VMConfiguration, notes: String,
                image: String?, createdAt: Date, startedAt: Date?, runningWhenHostStopped: Bool = false) {
        self.runningWhenHostStopped = runningWhenHostStopped
        self.id = id
        self.name = name
        self.state = state
        self.configuration = configuration
        self.notes = notes
        self.image = image
        self.createdAt = createdAt
        self.startedAt = startedAt
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, state, configuration, notes, image, createdAt, startedAt, runningWhenHostStopped
    }

    /// Decodes, also records a peer sent before `runningWhenHostStopped` existed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        state = try container.decode(VMState.self, forKey: .state)
        configuration = try container.decode(VMConfiguration.self, forKey: .configuration)
        notes = try container.decode(String.self, forKey: .notes)
        image = try container.decodeIfPresent(String.self, forKey: .image)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        startedAt = try container.decodeIfPresent(Date.self, forKey: .startedAt)
        runningWhenHostStopped = try container.decodeIfPresent(Bool.self, forKey: .runningWhenHostStopped) ?? false
    }
}

/// A registered image.
struct ImageRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "image"

    var name: String
    var kernel: String
    var initrd: String?
    var append: String?
    var disk: String
    var generation: Int
    var createdAt: Date

    init(_ info: ImageInfo) {
        name = info.name
        kernel = info.kernel
        initrd = info.initrd
        append = info.append
        disk = info.disk
        generation = info.generation
        createdAt = info.createdAt
    }

    var info: ImageInfo {
        ImageInfo(name: name, kernel: kernel, initrd: initrd, append: append, disk: disk, generation: generation, createdAt: createdAt)
    }
}

/// An event log entry.
struct EventRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "event"

    var id: Int64?
    var time: Date
    var level: EventLevel
    var source: EventSource
    var vm: String?
    var message: String
    /// Who asked for what the event records (a web or token user); nil for the host itself.
    var user: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var record: EventRecord {
        EventRecord(id: id ?? 0, time: time, level: level, source: source, vm: vm, message: message, user: user)
    }
}

/// A finished or running job, kept so `viridian jobs` shows history across daemon restarts.
struct JobRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "job"

    var id: String
    var createdAt: Date
    var info: JobInfo
}
