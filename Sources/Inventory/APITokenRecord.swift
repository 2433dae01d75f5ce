import APITypes
import Foundation
import GRDB

/// An API token as stored: its name and the SHA-256 digest of its secret (the secret itself is
/// shown once, when it is made, and kept nowhere).
public struct APITokenRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "apiToken"

    public var name: String
    /// Lowercase hex SHA-256 of the token's text.
    public var digest: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(name: String, digest: String, createdAt: Date, lastUsedAt: Date? = nil) {
        self.name = name
        self.digest = digest
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

extension Inventory {
    /// Every API token, by name.
    public func apiTokens() throws -> [APITokenRecord] {
        try read { try APITokenRecord.order(Column("name").collating(.nocase)).fetchAll($0) }
    }

    /// The token whose secret has `digest`.
    public func apiToken(digest: String) throws -> APITokenRecord? {
        try read { try APITokenRecord.filter(Column("digest") == digest).fetchOne($0) }
    }

    /// Stores a new token. - Throws: `alreadyExists` when the name is taken.
    public func insert(_ token: APITokenRecord) throws {
        do {
            try database.write { try token.insert($0) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw ViridianError(.alreadyExists, "a token named '\(token.name)' exists already (revoke it first to replace it)")
        } catch {
            throw ViridianError(.internalError, "cannot store token '\(token.name)'", cause: error)
        }
    }

    /// Notes that the token `name` was used now.
    public func touchAPIToken(name: String, at time: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE apiToken SET lastUsedAt = ? WHERE name = ? COLLATE NOCASE", arguments: [time, name])
        }
    }

    /// Removes a token; true when there was one.
    public func deleteAPIToken(name: String) throws -> Bool {
        var deleted = false
        try write { deleted = try APITokenRecord.filter(Column("name").collating(.nocase) == name).deleteAll($0) > 0 }
        return deleted
    }
}
