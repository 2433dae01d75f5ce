import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

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

    /// Takes the HTTP error handler out before a connection becomes a WebSocket session (it
    /// handles only HTTP parts).
    static func leaveHTTP(_ channel: any Channel) async throws {
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            pipeline.removeHandler(try pipeline.handler(type: HTTPServerProtocolErrorHandler.self), promise: nil)
        }.get()
    }
}

/// Closes a connection whose first request head has not arrived within `timeout`; the HTTP
/// side ends the deadline (`RequestHeadSeen`, or the WebSocket upgrade decision) once it has one.
final class FirstRequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let timeout: Duration
    private var expiry: Scheduled<Void>?

    init(timeout: Duration) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        expiry = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                               + timeout.components.attoseconds / 1_000_000_000)) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        expiry?.cancel()
    }

    /// The first request's head arrived: the connection lives by the HTTP idle timeout from now on.
    static func end(on channel: any Channel) {
        channel.pipeline.handler(type: FirstRequestDeadline.self).whenSuccess { deadline in
            deadline.expiry?.cancel()
            deadline.expiry = nil
        }
    }
}

/// Ends the first-request deadline when a request head passes (after the HTTP codec).
final class RequestHeadSeen: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    private var seen = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !seen, case .head = unwrapInboundIn(data) {
            seen = true
            FirstRequestDeadline.end(on: context.channel)
        }
        context.fireChannelRead(data)
    }
}
