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

    public init(id: String, name: String, state: VMState, configuration: VMConfiguration, notes: String,
                image: String?, createdAt: Date, startedAt: Date?) {
        self.id = id
        self.name = name
        self.state = state
        self.configuration = configuration
        self.notes = notes
        self.image = image
        self.createdAt = createdAt
        self.startedAt = startedAt
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

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var record: EventRecord {
        EventRecord(id: id ?? 0, time: time, level: level, source: source, vm: vm, message: message)
    }
}

/// A finished or running job, kept so `viridian jobs` shows history across daemon restarts.
struct JobRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "job"

    var id: String
    var createdAt: Date
    var info: JobInfo
}
