import APITypes
import Foundation
import Synchronization

/// Hands every event as it is recorded, and every job change, to the clients following
/// `GET /v1/events/stream`. Each client has a bounded buffer: one too slow to keep up loses the
/// oldest items (it sees a gap in the event ids and can read the log for what it missed), and
/// never holds the daemon back.
package final class LiveFeed: Sendable {
    /// Items buffered per client.
    package static let bufferPerClient = 1024

    /// How often an idle stream gets an empty item, so a client that left is noticed.
    package static let keepaliveInterval = Duration.seconds(15)

    private let clients = Mutex<(streams: [UUID: AsyncStream<StreamItem>.Continuation], closed: Bool)>(([:], false))

    package init() {}

    /// A new client's stream, with an empty item every `keepaliveInterval`; it ends when the client
    /// stops iterating or the daemon stops (`close`).
    package func subscribe() -> AsyncStream<StreamItem> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<StreamItem>.makeStream(bufferingPolicy: .bufferingNewest(Self.bufferPerClient))
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.keepaliveInterval)
                continuation.yield(StreamItem())
            }
        }
        continuation.onTermination = { [weak self] _ in
            keepalive.cancel()
            _ = self?.clients.withLock { $0.streams.removeValue(forKey: id) }
        }
        let closed = clients.withLock { clients -> Bool in
            if !clients.closed { clients.streams[id] = continuation }
            return clients.closed
        }
        if closed { continuation.finish() }
        return stream
    }

    /// Ends every stream (the daemon is stopping: its server waits for open requests to finish).
    package func close() {
        let streams = clients.withLock { clients -> [AsyncStream<StreamItem>.Continuation] in
            clients.closed = true
            return Array(clients.streams.values)
        }
        for stream in streams { stream.finish() }
    }

    package func publish(_ item: StreamItem) {
        for client in clients.withLock({ Array($0.streams.values) }) { client.yield(item) }
    }

}
