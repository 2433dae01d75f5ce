import APITypes
import Foundation
import HostServices
import Hummingbird
import WebConsole

/// The web listener's own routes: the console's page and assets, sign-in and sign-out, the graphs'
/// data and `/metrics`. `WebAuthMiddleware` stands in front of them.
struct WebController {
    let host: ViridianHost
    let web: WebServices

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("/") { _, _ in try Self.asset(web.assets.page()) }
        router.get("favicon.ico") { _, _ in Response(status: .noContent) }
        router.get("assets/**") { request, _ in try asset(request.uri.path) }
        router.get("novnc/**") { request, _ in try asset(request.uri.path) }
        router.post("web/login") { request, context in try await signIn(request, context: context) }
        router.get("web/session") { request, _ in
            guard let identity = try web.gate.identify(request.headers), let csrf = identity.csrfToken else {
                throw ViridianError(.invalidArgument, "an API token has no console session")
            }
            return JSONResponse(value: WebSessionInfo(user: identity.user, csrfToken: csrf))
        }
        router.post("web/logout") { request, _ in
            if let identity = try web.gate.identify(request.headers), let id = identity.sessionID {
                web.sessions.close(id)
                host.events.record(.information, .vmms, vm: nil, "\(identity.user) signed out of the web console")
            }
            var response = Response(status: .noContent)
            response.headers[.setCookie] = "\(WebSessions.cookieName)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        router.get("web/vms") { _, _ in
            JSONResponse(value: await host.vms.consoleRows(cpuPercent: await host.metrics.latestCPUPercent()))
        }
        router.get("metrics") { _, _ in
            let collector = host.metrics
            if await collector.sampledAt == nil { await collector.sample() }
            let body = web.exposition.scrape(sample: await collector.exposition)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("v1/vms/:name/metrics") { request, context in
            try await graph(try context.pathParameter("name"), request)
        }
        router.get("v1/host/metrics") { request, _ in try await graph(MetricsCollector.hostKey, request) }
    }

    private func asset(_ path: String) throws -> Response {
        guard let asset = try web.assets.asset(path) else { throw ViridianError(.notFound, "no such file in the web console") }
        return Self.asset(asset)
    }

    private static func asset(_ asset: WebAssets.Asset) -> Response {
        Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    /// `range=hour` (the default: 10 s points) or `range=month` (hourly averages over 30 days).
    private func graph(_ name: String, _ request: Request) async throws -> JSONResponse<[MetricsPoint]> {
        let range = request.queryText("range") ?? "hour"
        guard range == "hour" || range == "month" else {
            throw ViridianError(.invalidArgument, "range is hour or month, not '\(Quote.prefix(range))'")
        }
        if name != MetricsCollector.hostKey { _ = try await host.vms.show(name) }
        let history = await host.metrics.history(name) ?? MetricsHistory()
        return JSONResponse(value: range == "hour" ? history.recent : history.month)
    }

    private func signIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        // JSON only: a cross-site form (text/plain, no preflight) cannot sign a browser into another session.
        guard request.headers[.contentType]?.hasPrefix("application/json") == true else {
            throw ViridianError(.invalidArgument, "sign in with a JSON body (Content-Type: application/json)")
        }
        let body = try await request.decodeJSON(as: WebSignInRequest.self, context: context)
        let address = context.remoteAddress ?? "unknown"
        var keys = ["address:\(address)"]
        if let user = body.user { keys.append("user:\(user.lowercased())") }
        if let wait = web.limiter.delay(for: keys) {
            var response = try ErrorMiddleware<APIRequestContext>.response(
                ViridianError(.busy, "too many failed sign-ins; try again in \(Int(wait.components.seconds) + 1) s"), status: .tooManyRequests)
            response.headers[.retryAfter] = String(wait.components.seconds + 1)
            return response
        }
        let user: String
        do {
            if let token = body.token {
                guard let name = try web.tokens.authenticate(token) else { throw PAMAuthenticator.Refusal.badCredentials("unknown token") }
                user = "token:\(name)"
            } else {
                guard let name = body.user, let password = body.password else {
                    throw ViridianError(.invalidArgument, "sign in with a user and password, or a token")
                }
                try await web.authenticator.authenticate(user: name, password: password)
                user = name
            }
        } catch let refusal as PAMAuthenticator.Refusal {
            web.limiter.recordFailure(keys)
            host.events.record(.warning, .vmms, vm: nil,
                               "a web console sign-in\(body.user.map { " as '\(Quote.prefix($0))'" } ?? " with a token") from \(address) was refused: \(refusal.reason)")
            return try ErrorMiddleware<APIRequestContext>.response(
                ViridianError(.permissionDenied, "the user name or password is wrong, or the account is not in group '\(HostAccess.groupName)'"),
                status: .unauthorized)
        }
        web.limiter.reset(keys)
        let session = web.sessions.open(user: user)
        RequestUser.$name.withValue(user) {
            host.events.record(.information, .vmms, vm: nil, "\(user) signed in to the web console from \(address)")
        }
        var response = try JSONResponse(value: WebSessionInfo(user: user, csrfToken: session.csrfToken)).response(from: request, context: context)
        response.headers[.setCookie] = "\(WebSessions.cookieName)=\(session.id); Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=\(Int(web.sessions.lifetime.components.seconds))"
        return response
    }
}

extension PAMAuthenticator.Refusal {
    /// For the event log (the client is told less).
    var reason: String {
        switch self {
        case .badCredentials(let why): why
        case .notInGroup: "the account is not in group '\(HostAccess.groupName)'"
        }
    }
}
