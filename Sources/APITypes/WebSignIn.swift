/// `POST /web/login`: a Linux account of the `viridian` group (`user` and `password`, checked by
/// PAM), or an API token.
public struct WebSignInRequest: Codable, Sendable {
    public var user: String?
    public var password: String?
    public var token: String?

    public init(user: String? = nil, password: String? = nil, token: String? = nil) {
        self.user = user
        self.password = password
        self.token = token
    }
}

/// The signed-in session (`POST /web/login`, `GET /web/session`): who, and the CSRF token every
/// change must send as `X-CSRF-Token`. The session itself is the HttpOnly cookie.
public struct WebSessionInfo: Codable, Sendable {
    public var user: String
    public var csrfToken: String

    public init(user: String, csrfToken: String) {
        self.user = user
        self.csrfToken = csrfToken
    }
}
