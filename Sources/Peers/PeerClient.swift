import APITypes
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Calls one peer's migration listener over mutually authenticated TLS: this host shows its
/// host certificate, and accepts only a listener whose certificate the peer's CA issued.
package struct PeerClient: Sendable {
    package let peer: PeerRegistry.Peer
    /// The peer's client from `PeerConnections`, shared by every call to it.
    private let client: HTTPClient

    init(peer: PeerRegistry.Peer, client: HTTPClient) {
        self.peer = peer
        self.client = client
    }

    /// Sends a request and decodes the JSON reply; the peer's errors come back as `ViridianError`s naming it.
    package func call<Reply: Decodable>(_ method: HTTPMethod, _ path: String, body: (some Encodable & Sendable)? = Optional<String>.none,
                                        timeout: Duration = .seconds(30), as type: Reply.Type = Reply.self) async throws -> Reply {
        try await send(method, path, body: body, timeout: timeout)
    }

    /// Uploads `file` (exactly `size` bytes) with PUT to `path`, reporting bytes sent.
    package func upload(_ path: String, file: String, size: Int64, progress: @escaping @Sendable (Int64) -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw ViridianError(.notFound, "cannot read \(file)")
        }
        let chunks = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            let reader = Task {
                defer { try? handle.close() }
                var sent: Int64 = 0
                do {
                    while !Task.isCancelled, let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                        sent += Int64(data.count)
                        progress(sent)
                        continuation.yield(ByteBuffer(bytes: data))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
        var request = HTTPClientRequest(url: "https://\(peer.endpoint)\(path)")
        request.method = .PUT
        request.body = .stream(chunks, length: .known(size))
        let timeout = Duration.seconds(max(120, size >> 20))
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            try requireSuccess(response, bytes)
        } catch {
            throw error as? ViridianError ?? connectionError(error)
        }
    }

    private func send<Reply: Decodable>(_ method: HTTPMethod, _ path: String, body: (some Encodable & Sendable)?,
                                        timeout: Duration) async throws -> Reply {
        var request = HTTPClientRequest(url: "https://\(peer.endpoint)\(path)")
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try WireJSON.encoder().encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw connectionError(error)
        }
        try requireSuccess(response, bytes)
        do {
            return try WireJSON.decoder().decode(Reply.self, from: Data(bytes.readableBytesView))
        } catch {
            throw ViridianError(.internalError, "peer '\(peer.record.name)' sent a reply this host cannot read (versions differ?)", cause: error)
        }
    }

    /// Turns a peer's error reply into a `ViridianError` naming the peer.
    private func requireSuccess(_ response: HTTPClientResponse, _ bytes: ByteBuffer) throws {
        guard !(200..<300).contains(Int(response.status.code)) else { return }
        if let failure = try? WireJSON.decoder().decode(ErrorResponse.self, from: Data(bytes.readableBytesView)) {
            let remote = failure.viridianError
            throw ViridianError(remote.code, "peer '\(peer.record.name)': \(remote.message)")
        }
        throw ViridianError(.notResponding, "peer '\(peer.record.name)' answered \(response.status.code)")
    }

    /// Says which side refused whom, or that the peer is not there.
    private func connectionError(_ error: any Error) -> ViridianError {
        if let error = error as? ViridianError { return error }
        let text = String(describing: error)
        let name = peer.record.name
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return ViridianError(.notResponding, "peer '\(name)' at \(peer.endpoint) did not prove its identity: its certificate was not issued by the CA trusted for it (check the file given to 'viridian host peer add')", cause: error)
        }
        if text.contains("ALERT") || text.contains("alert") || text.contains("handshake") || text.contains("Handshake") {
            return ViridianError(.notResponding, "peer '\(name)' at \(peer.endpoint) refused this host's certificate: trust this host there with 'viridian host peer add' and the output of 'viridian host certificate'", cause: error)
        }
        if text.contains("imeout") || text.contains("deadline") {
            return ViridianError(.timeout, "peer '\(name)' at \(peer.endpoint) did not answer in time", cause: error)
        }
        return ViridianError(.notResponding, "peer '\(name)' at \(peer.endpoint) cannot be reached: \(text.prefix(200))", cause: error)
    }
}
