import APITypes
import Foundation
import GRDB

/// Who may run a VM, as this host's inventory stores it: one record per VM id, changed only by
/// compare-and-swap on its generation (`Inventory.swapOwnership`). The generation grows by one
/// every time the VM changes hands, so it is a fencing token: a worker runs the guest only for
/// the owner of the current generation.
public struct OwnershipRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "ownership"

    /// Where the VM stands.
    public enum State: String, Codable, Sendable {
        /// This host owns the VM and may run it.
        case owned
        /// A move to `peer` is under way; the destination cannot take the VM before this host commits.
        case departing
        /// This host asked `peer` to take the VM over (move `moveID`); until the peer says what
        /// happened, the VM must not run here.
        case committing
    }

    public var vmID: String
    /// The host that owns the VM.
    public var owner: String
    public var generation: Int64
    public var state: State
    /// The destination of a move under way.
    public var peer: String?
    /// The destination's id of the move (its plan), once it gave one.
    public var moveID: String?
    /// The VM's state before the move, to return to when the move does not happen.
    public var previousState: VMState?
    public var updatedAt: Date

    public init(vmID: String, owner: String, generation: Int64, state: State = .owned, peer: String? = nil,
                moveID: String? = nil, previousState: VMState? = nil, updatedAt: Date = Date()) {
        self.vmID = vmID
        self.owner = owner
        self.generation = generation
        self.state = state
        self.peer = peer
        self.moveID = moveID
        self.previousState = previousState
        self.updatedAt = updatedAt
    }
}

extension Inventory {
    /// Every stored ownership record.
    public func ownerships() throws -> [OwnershipRecord] {
        do {
            return try database.read { try OwnershipRecord.fetchAll($0) }
        } catch {
            throw ViridianError(.internalError, "cannot read the VMs' ownership", cause: error)
        }
    }

    /// The ownership record of `vmID`, if any.
    public func ownership(vmID: String) throws -> OwnershipRecord? {
        do {
            return try database.read { try OwnershipRecord.fetchOne($0, key: vmID) }
        } catch {
            throw ViridianError(.internalError, "cannot read the ownership of VM \(vmID)", cause: error)
        }
    }

    /// Replaces the ownership of `vmID` with `new` (nil deletes it) only when the stored record has
    /// generation `expected` and state `expectedState` (`expected` nil: there is no record).
    /// - Throws: `conflict` naming what is stored when it is not what the caller expected.
    public func swapOwnership(vmID: String, expected: Int64?, expectedState: OwnershipRecord.State?,
                              new: OwnershipRecord?) throws {
        do {
            try database.write { db in
                let current = try OwnershipRecord.fetchOne(db, key: vmID)
                guard current?.generation == expected, expected == nil || current?.state == expectedState else {
                    throw ViridianError(.conflict, "the ownership of VM \(vmID) changed meanwhile: it is "
                                        + (current.map { "\($0.state.rawValue) by '\($0.owner)' at generation \($0.generation)" } ?? "not recorded")
                                        + ", not \(expectedState?.rawValue ?? "unrecorded") at generation \(expected.map(String.init) ?? "-")")
                }
                if let new {
                    var stored = new
                    stored.updatedAt = Date()
                    try stored.save(db)
                } else {
                    try OwnershipRecord.deleteOne(db, key: vmID)
                }
            }
        } catch let error as ViridianError {
            throw error
        } catch {
            throw ViridianError(.internalError, "cannot store the ownership of VM \(vmID)", cause: error)
        }
    }
}
