import APITypes
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A client of viridiand's API over its unix socket. The CLI uses nothing else.
public struct ViridianClient: Sendable {
    /// The daemon's socket.
    public let socketPath: String
    /// How long one request may take.
    public var timeout: Duration = .seconds(120)

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Sends a request and returns the status and body bytes; errors of the API become `ViridianError`.
    public func send(_ method: HTTPMethod, _ path: String, query: [String: String?] = [:],
                     body: (some Encodable & Sendable)? = Optional<String>.none) async throws -> (status: Int, body: ByteBuffer) {
        // AsyncHTTPClient retries refused connections until the deadline; say at once that no daemon listens.
        switch UnixSocketProbe.state(socketPath) {
        case .listening: break
        case .notListening: throw Self.daemonNotRunning(socketPath)
        case .permissionDenied: throw Self.notPermitted(socketPath)
        }
        let uri = path + Self.queryString(query)
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: uri) else {
            throw ViridianError(.invalidArgument, "cannot address \(socketPath)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try WireJSON.encoder().encode(body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        } catch {
            throw Self.connectionError(error, socketPath: socketPath)
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            if let failure = try? WireJSON.decoder().decode(ErrorResponse.self, from: Data(bytes.readableBytesView)) {
                throw failure.viridianError
            }
            throw ViridianError(.internalError, "viridiand answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        return (Int(response.status.code), bytes)
    }

    /// Sends a request and decodes the JSON reply.
    public func call<Reply: Decodable>(_ method: HTTPMethod, _ path: String, query: [String: String?] = [:],
                                       body: (some Encodable & Sendable)? = Optional<String>.none,
                                       as type: Reply.Type = Reply.self) async throws -> Reply {
        let reply = try await send(method, path, query: query, body: body)
        do {
            return try WireJSON.decoder().decode(Reply.self, from: Data(reply.body.readableBytesView))
        } catch {
            throw ViridianError(.internalError, "viridiand sent a reply this CLI cannot read (versions differ?)", cause: error)
        }
    }

    static func queryString(_ query: [String: String?]) -> String {
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items.sorted { $0.name < $1.name }
        return "?" + (components.percentEncodedQuery ?? "")
    }

    /// The error for a socket nobody serves, saying how to start the daemon.
    static func daemonNotRunning(_ socketPath: String, cause: (any Error)? = nil) -> ViridianError {
        ViridianError(.unavailable,
                      "viridiand is not running on \(socketPath); start it with 'systemctl start viridiand' or 'viridiand --state-dir DIR --socket \(socketPath)', or point --host / VIRIDIAN_HOST at its socket",
                      cause: cause)
    }

    /// The error for a socket this user may not use, saying who may and how to join.
    static func notPermitted(_ socketPath: String) -> ViridianError {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "$USER"
        return ViridianError(.permissionDenied,
                             "permission denied on \(socketPath): only root and members of the group 'viridian' may drive viridiand; "
                             + "join it with 'sudo usermod -aG viridian \(user)' and log in again")
    }

    static func connectionError(_ error: any Error, socketPath: String) -> ViridianError {
        if let error = error as? ViridianError { return error }
        let text = "\(error)"
        if text.contains("connect") || text.contains("No such file") || text.contains("refused") || text.contains("ENOENT") {
            return daemonNotRunning(socketPath, cause: error)
        }
        if text.contains("deadline") || text.contains("imeout") {
            return ViridianError(.timeout, "viridiand did not answer in time", cause: error)
        }
        return ViridianError(.unavailable, "cannot talk to viridiand on \(socketPath)", cause: error)
    }
}
