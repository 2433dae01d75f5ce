import NIOCore
import NIOHTTPTypes

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
