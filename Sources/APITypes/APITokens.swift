import struct Foundation.Date

/// `POST /v1/host/tokens`: a new API token for the web listener's REST API and `/metrics`.
public struct CreateAPITokenRequest: Codable, Sendable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}

/// An API token as listed: never its secret, which is shown once when it is made.
public struct APITokenInfo: Codable, Sendable {
    public var name: String
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(name: String, createdAt: Date, lastUsedAt: Date?) {
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// A token just made: `token` is its secret, for `Authorization: Bearer TOKEN`; it is not kept.
public struct CreatedAPIToken: Codable, Sendable {
    public var name: String
    public var token: String
    public var createdAt: Date

    public init(name: String, token: String, createdAt: Date) {
        self.name = name
        self.token = token
        self.createdAt = createdAt
    }
}
