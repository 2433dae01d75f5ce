import NIOCore
import NIOHTTP1

/// The HTTP error handler `GuardedChannel` puts behind the decoder.
enum HTTPErrorHandling {
    /// Takes the HTTP error handler out before a connection becomes a WebSocket session (it
    /// handles only HTTP parts).
    static func leaveHTTP(_ channel: any Channel) async throws {
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            pipeline.removeHandler(try pipeline.handler(type: HTTPServerProtocolErrorHandler.self), promise: nil)
        }.get()
    }
}
