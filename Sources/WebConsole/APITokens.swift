import APITypes
import Crypto
import Foundation
import Inventory

/// The host's API tokens (`viridian host token create|list|revoke`): a token is `vrd_` and 43
/// characters of base64url (256 random bits); only its SHA-256 digest is stored, so a stolen
/// inventory yields no token. A token is a user named `token:NAME` in the event log.
public struct APITokens: Sendable {
    static let prefix = "vrd_"
    let inventory: Inventory

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    public func create(name: String) throws -> CreatedAPIToken {
        try NameRule.validate(name, what: "token name")
        var secret = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in secret.indices { secret[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let token = Self.prefix + Data(secret).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let record = APITokenRecord(name: name, digest: Self.digest(token), createdAt: Date())
        try inventory.insert(record)
        return CreatedAPIToken(name: name, token: token, createdAt: record.createdAt)
    }

    public func list() throws -> [APITokenInfo] {
        try inventory.apiTokens().map { APITokenInfo(name: $0.name, createdAt: $0.createdAt, lastUsedAt: $0.lastUsedAt) }
    }

    public func revoke(name: String) throws {
        guard try inventory.deleteAPIToken(name: name) else {
            throw ViridianError(.notFound, "no token is named '\(Quote.prefix(name))'")
        }
    }

    /// The name of the token `text` is, nil when it is none (a revoked token is none). Notes its use.
    public func authenticate(_ text: String) throws -> String? {
        guard text.hasPrefix(Self.prefix), text.utf8.count < 128, let record = try inventory.apiToken(digest: Self.digest(text)) else {
            return nil
        }
        let now = Date()
        if record.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            try inventory.touchAPIToken(name: record.name, at: now)
        }
        return record.name
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
