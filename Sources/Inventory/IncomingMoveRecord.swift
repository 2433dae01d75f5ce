import APITypes
import Foundation
import GRDB

/// The outcome of a move to this host, kept so that a source that lost the commit's answer — or
/// asks after this daemon restarted — hears what really happened.
public struct IncomingMoveRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "incomingMove"

    public var id: String
    public var vmID: String
    /// `committed`: the VM is this host's.
    public var state: String
    public var updatedAt: Date

    public init(id: String, vmID: String, state: String, updatedAt: Date = Date()) {
        self.id = id
        self.vmID = vmID
        self.state = state
        self.updatedAt = updatedAt
    }
}

extension Inventory {
    /// The recorded outcome of the move `id`, if any.
    public func incomingMove(id: String) throws -> IncomingMoveRecord? {
        do {
            return try database.read { try IncomingMoveRecord.fetchOne($0, key: id) }
        } catch {
            throw ViridianError(.internalError, "cannot read the moves' outcomes", cause: error)
        }
    }

    /// Whether a VM with `id` is stored on this host.
    public func containsVM(id: String) throws -> Bool {
        do {
            return try database.read { try VMRecord.exists($0, key: id) }
        } catch {
            throw ViridianError(.internalError, "cannot read the inventory", cause: error)
        }
    }
}
