import APITypes
import Foundation
import HTTPTypes
import WebConsole

/// Who a web listener request comes from: a console session (its cookie) or an API token
/// (`Authorization: Bearer`). Changes from a session must carry its CSRF token; a token is not
/// sent by the browser on its own, so token requests need none.
struct WebGate: Sendable {
    struct Identity: Sendable {
        var user: String
        /// The session's CSRF token; nil for an API token.
        var csrfToken: String?
        var sessionID: String?
    }

    let sessions: WebSessions
    let tokens: APITokens

    func identify(_ headers: HTTPFields) throws -> Identity? {
        if let authorization = headers[.authorization] {
            guard authorization.hasPrefix("Bearer "), let name = try tokens.authenticate(String(authorization.dropFirst(7))) else {
                return nil
            }
            return Identity(user: "token:\(name)")
        }
        guard let id = Self.cookie(WebSessions.cookieName, in: headers), let session = sessions.session(id) else { return nil }
        return Identity(user: session.user, csrfToken: session.csrfToken, sessionID: session.id)
    }

    /// The value of cookie `name` among the request's `Cookie` headers.
    static func cookie(_ name: String, in headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }

    /// A WebSocket upgrade from a page must come from this console: its `Origin` names the host the
    /// request was sent to (a cross-site page cannot open a console with the user's cookie).
    static func originMatches(_ request: HTTPRequest) -> Bool {
        guard let origin = request.headerFields[.origin] else { return true }
        guard let authority = request.authority else { return false }
        return origin == "https://\(authority)"
    }
}
