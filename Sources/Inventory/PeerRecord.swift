import Foundation
import GRDB

/// A trusted peer host as stored: its name, its migration listener and its CA certificate.
public struct PeerRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "peer"

    public var name: String
    public var address: String
    /// The peer's CA certificate, PEM.
    public var certificate: String
    public var addedAt: Date

    public init(name: String, address: String, certificate: String, addedAt: Date) {
        self.name = name
        self.address = address
        self.certificate = certificate
        self.addedAt = addedAt
    }
}

/// One host setting as stored: a key and a JSON value.
struct SettingRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "setting"

    var key: String
    var value: String
}
