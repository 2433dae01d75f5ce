import APITypes
import Foundation
import HostServices
import HTTPTypes
import Hummingbird
import WebConsole

/// In front of every route of the web listener: the console's page, its assets and sign-in are
/// open; everything else needs a session or an API token (401 otherwise), and a session's changes
/// (anything but GET and HEAD) need its CSRF token in `X-CSRF-Token` (403 otherwise). The request
/// runs as its user (`RequestUser`), so the event log names them, and its duration is counted
/// for `/metrics`; every change (anything but GET and HEAD) is also audited in the event log with
/// its user and outcome. Every answer carries the console's security headers.
struct WebAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    static let openPaths: Set<String> = ["/", "/web/login", "/favicon.ico"]
    let gate: WebGate
    let exposition: MetricsExposition
    /// Records an audit event: the VM (from the path), the line, and whether the request failed.
    let audit: @Sendable (_ vm: String?, _ line: String, _ failed: Bool) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await authorised(request, context: context, next: next)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        return response
    }

    private func authorised(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.openPaths.contains(path) || path.hasPrefix("/assets/") || path.hasPrefix("/novnc/") {
            return try await next(request, context)
        }
        guard let identity = try gate.identify(request.headers) else {
            return try ErrorMiddleware<Context>.response(ViridianError(.permissionDenied, "sign in to the web console, or send an API token as 'Authorization: Bearer TOKEN'"),
                                                status: .unauthorized)
        }
        if request.method != .get, request.method != .head, let expected = identity.csrfToken,
           request.headers[Self.csrfHeader] != expected {
            return try ErrorMiddleware<Context>.response(ViridianError(.permissionDenied, "this change lacks the session's CSRF token (X-CSRF-Token); reload the console"),
                                                status: .forbidden)
        }
        let start = ContinuousClock.now
        defer { if path.hasPrefix("/v1/") { exposition.recordRequest(method: request.method.rawValue, duration: .now - start) } }
        return try await RequestUser.$name.withValue(identity.user) {
            guard request.method != .get, request.method != .head, path != "/web/logout" else { return try await next(request, context) }
            let parts = path.split(separator: "/")
            let vm = parts.count >= 3 && parts[0] == "v1" && parts[1] == "vms" ? String(parts[2]).removingPercentEncoding : nil
            let line = "\(identity.user) asked \(request.method.rawValue) \(path) on the web listener"
            do {
                let response = try await next(request, context)
                audit(vm, "\(line): \(response.status.code)", response.status.code >= 400)
                return response
            } catch {
                audit(vm, "\(line): refused: \(APIError.viridianError(error).message)", true)
                throw error
            }
        }
    }
}
