import Foundation
import GRDB

/// What the host remembers of a VM's integration services: the release its agent last
/// negotiated (so a change is logged once, not per heartbeat) and the KVP host pool.
public struct IntegrationRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "integration"

    public var vmID: String
    public var release: String?
    public var agent: String?
    public var hostItems: [String: String]
    public var updatedAt: Date

    public init(vmID: String, release: String?, agent: String?, hostItems: [String: String], updatedAt: Date) {
        self.vmID = vmID
        self.release = release
        self.agent = agent
        self.hostItems = hostItems
        self.updatedAt = updatedAt
    }

    /// A VM whose agent never negotiated and whose host pool is empty.
    public static func empty(vmID: String) -> IntegrationRecord {
        IntegrationRecord(vmID: vmID, release: nil, agent: nil, hostItems: [:], updatedAt: Date())
    }
}
