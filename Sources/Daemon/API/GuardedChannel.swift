import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A listener's child channel with viridiand's bounds in front of the protocol handlers: the
/// connection cap (`ConnectionLimit`) and a deadline for the first request's head
/// (`FirstRequestDeadline`), so that a client that connects and sends nothing, or half a header,
/// is closed. After the first request the HTTP layer's idle timeout takes over. Behind the HTTP
/// decoder it puts NIO's protocol error handler: a request that is not HTTP (a garbage request
/// line, an unknown method, oversized headers, a negative or conflicting length) gets `400` and
/// the connection closes; Hummingbird leaves parse errors to the application, which kept such a
/// connection open without a reply.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let limit: ConnectionLimit
    let firstRequestTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(limit.handler())
            try channel.pipeline.syncOperations.addHandler(FirstRequestDeadline(timeout: firstRequestTimeout))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(HTTPServerProtocolErrorHandler(), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
