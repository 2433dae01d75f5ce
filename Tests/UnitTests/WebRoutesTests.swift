import APITypes
@testable import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WebConsole

/// The web listener's gate, in-process (HummingbirdTesting, no TLS): what is open, what needs a
/// session or token, CSRF on a session's changes, the sign-in limit, token management kept off it.
@Suite("Web listener routes", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                       "viridiand needs QEMU to open its host"))
struct WebRoutesTests {
    static let csrf = HTTPField.Name("X-CSRF-Token")!

    @Test("the page is open; the API and /metrics need a session or token; a session's change needs its CSRF token")
    func gate() async throws {
        try await withTemporaryHost("web-gate") { host in
            let token = try host.tokens.create(name: "unit").token
            try await Application(router: WebListener.router(host: host, web: WebServices(host: host))).test(.router) { client in
                let page = try await client.execute(uri: "/", method: .get)
                #expect(page.status == .ok && String(buffer: page.body).contains("login-form"), "GET / is the login page")
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true, "the page has a CSP")
                #expect(try await client.execute(uri: "/v1/vms", method: .get).status == .unauthorized)
                #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                #expect(try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer vrd_wrong"]).status == .unauthorized)
                let metrics = try await client.execute(uri: "/metrics", method: .get, headers: bearer)
                #expect(metrics.status == .ok && String(buffer: metrics.body).contains("viridian_host_vms{state=\"Running\"}"))
                #expect(try await client.execute(uri: "/v1/host/tokens", method: .get, headers: bearer).status == .notFound,
                        "tokens are managed on the socket only")
                // A token needs no CSRF token: the browser never sends it by itself.
                #expect(try await client.execute(uri: "/v1/vms/none/start", method: .post, headers: bearer).status == .notFound)

                let login = try await client.execute(uri: "/web/login", method: .post, headers: [.contentType: "application/json"],
                                                     body: ByteBuffer(string: #"{"token":"\#(token)"}"#))
                #expect(login.status == .ok)
                let cookie = try #require(login.headers[.setCookie])
                #expect(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict"), "\(cookie)")
                let session = try WireJSON.decoder().decode(WebSessionInfo.self, from: Data(buffer: login.body))
                #expect(session.user == "token:unit")
                let withCookie: HTTPFields = [.cookie: String(cookie.prefix { $0 != ";" })]
                #expect(try await client.execute(uri: "/v1/vms", method: .get, headers: withCookie).status == .ok)
                #expect(try await client.execute(uri: "/v1/vms/none/start", method: .post, headers: withCookie).status == .forbidden,
                        "a session's change without the CSRF token is refused")
                var withToken = withCookie
                withToken[Self.csrf] = "not-it"
                #expect(try await client.execute(uri: "/v1/vms/none/start", method: .post, headers: withToken).status == .forbidden)
                withToken[Self.csrf] = session.csrfToken
                #expect(try await client.execute(uri: "/v1/vms/none/start", method: .post, headers: withToken).status == .notFound,
                        "with the CSRF token the change reaches the VM routes")
                #expect(try await client.execute(uri: "/web/logout", method: .post, headers: withToken).status == .noContent)
                #expect(try await client.execute(uri: "/v1/vms", method: .get, headers: withCookie).status == .unauthorized,
                        "a closed session is refused")

                for path in ["/assets/../Package.swift", "/assets/.hidden", "/novnc/app/ui.js", "/novnc/core/../../etc/passwd"] {
                    #expect(try await client.execute(uri: path, method: .get).status == .notFound, "\(path) is not served")
                }
            }
        }
    }

    @Test("failed sign-ins are refused alike and limited: the sixth within a minute gets 429")
    func signInLimit() async throws {
        try await withTemporaryHost("web-limit") { host in
            try await Application(router: WebListener.router(host: host, web: WebServices(host: host))).test(.router) { client in
                let json: HTTPFields = [.contentType: "application/json"]
                for attempt in 1...5 {
                    let refused = try await client.execute(uri: "/web/login", method: .post, headers: json,
                                                           body: ByteBuffer(string: #"{"user":"no-such-user-here","password":"x\#(attempt)"}"#))
                    #expect(refused.status == .unauthorized, "attempt \(attempt): \(refused.status)")
                }
                let limited = try await client.execute(uri: "/web/login", method: .post, headers: json,
                                                       body: ByteBuffer(string: #"{"token":"vrd_guess"}"#))
                #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil, "\(limited.status)")
            }
            let events = try host.inventory.events(vm: nil, minimumLevel: .warning, since: nil, limit: 50)
            #expect(events.filter { $0.message.contains("sign-in as 'no-such-user-here'") }.count == 5)
        }
    }
}
