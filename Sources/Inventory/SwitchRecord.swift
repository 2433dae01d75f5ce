import APITypes
import Foundation
import GRDB

/// A virtual switch as stored: recreated at every daemon start.
public struct SwitchRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "switch"

    public var name: String
    public var type: SwitchType
    public var adapter: String?
    public var allowManagementOS: Bool
    public var hostAddress: String?
    public var mtu: Int
    public var notes: String
    public var createdAt: Date

    public init(name: String, type: SwitchType, adapter: String?, allowManagementOS: Bool, hostAddress: String?,
                mtu: Int, notes: String, createdAt: Date) {
        self.name = name
        self.type = type
        self.adapter = adapter
        self.allowManagementOS = allowManagementOS
        self.hostAddress = hostAddress
        self.mtu = mtu
        self.notes = notes
        self.createdAt = createdAt
    }
}

extension Inventory {
    /// Every stored switch, by name.
    public func switches() throws -> [SwitchRecord] {
        do {
            return try database.read { try SwitchRecord.order(Column("name").collating(.nocase)).fetchAll($0) }
        } catch {
            throw ViridianError(.internalError, "cannot read the switches", cause: error)
        }
    }

    /// Stores a new switch. - Throws: `alreadyExists` when the name is taken (case-insensitive).
    public func insert(_ record: SwitchRecord) throws {
        do {
            try database.write { try record.insert($0) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw ViridianError(.alreadyExists, "a switch named '\(record.name)' exists already")
        } catch {
            throw ViridianError(.internalError, "cannot store switch '\(record.name)'", cause: error)
        }
    }

    /// Replaces a stored switch.
    public func update(_ record: SwitchRecord) throws {
        do {
            try database.write { try record.update($0) }
        } catch {
            throw ViridianError(.internalError, "cannot store switch '\(record.name)'", cause: error)
        }
    }

    /// Removes a switch.
    public func deleteSwitch(name: String) throws {
        do {
            _ = try database.write { try SwitchRecord.deleteOne($0, key: name) }
        } catch {
            throw ViridianError(.internalError, "cannot remove switch '\(name)'", cause: error)
        }
    }
}
