import APITypes
import AsyncHTTPClient
import Foundation
import NIOCore

/// `GET /v1/events/stream`: events as they are recorded and job changes, as they happen.
extension ViridianClient {
    /// An open event stream: its items, one decoded line at a time.
    public struct EventStream: AsyncSequence, Sendable {
        public typealias Element = StreamItem
        let body: HTTPClientResponse.Body

        public struct AsyncIterator: AsyncIteratorProtocol {
            var bytes: HTTPClientResponse.Body.AsyncIterator
            var pending: [UInt8] = []

            /// The next item; nil when the daemon ended the stream. Keep-alive lines (`{}`) are skipped.
            public mutating func next() async throws -> StreamItem? {
                while true {
                    if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(pending[..<newline])
                        pending.removeSubrange(...newline)
                        let item = try WireJSON.decoder().decode(StreamItem.self, from: Data(line))
                        if item.event != nil || item.job != nil { return item }
                        continue
                    }
                    guard let chunk = try await bytes.next() else { return nil }
                    pending += chunk.readableBytesView
                    guard pending.count <= 16 << 20 else {
                        throw ViridianError(.internalError, "viridiand sent an event line longer than 16 MiB")
                    }
                }
            }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: body.makeAsyncIterator()) }
    }

    /// Opens the event stream (filtered by VM and minimum event level); returns once viridiand has
    /// subscribed it, so nothing that happens afterwards is missed.
    public func eventStream(vm: String? = nil, level: EventLevel? = nil) async throws -> EventStream {
        switch UnixSocketProbe.state(socketPath) {
        case .listening: break
        case .notListening: throw Self.daemonNotRunning(socketPath)
        case .permissionDenied: throw Self.notPermitted(socketPath)
        }
        let uri = "/v1/events/stream" + Self.queryString(["vm": vm, "level": level?.rawValue])
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: uri) else {
            throw ViridianError(.invalidArgument, "cannot address \(socketPath)")
        }
        let response: HTTPClientResponse
        do {
            // A stream stays open as long as the caller follows it.
            response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: .hours(24 * 365))
        } catch {
            throw Self.connectionError(error, socketPath: socketPath)
        }
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            if let failure = try? WireJSON.decoder().decode(ErrorResponse.self, from: Data(bytes.readableBytesView)) {
                throw failure.viridianError
            }
            throw ViridianError(.internalError, "viridiand answered \(response.status.code) to the event stream")
        }
        return EventStream(body: response.body)
    }
}
