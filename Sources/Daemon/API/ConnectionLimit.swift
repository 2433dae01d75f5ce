import NIOCore
import Synchronization

/// The most connections one listener holds at once; one more is closed at once. Bounds what a
/// client that opens connections and never finishes them can take, with the idle timeout
/// (`ListenerLimits.idleTimeout`) that ends each unfinished one.
final class ConnectionLimit: Sendable {
    let maximum: Int
    private let open = Mutex(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// The handler each new connection gets.
    func handler() -> some ChannelHandler { Counter(limit: self) }

    fileprivate func admit() -> Bool {
        open.withLock { count in
            guard count < maximum else { return false }
            count += 1
            return true
        }
    }

    fileprivate func release() {
        open.withLock { $0 -= 1 }
    }

    /// Counts its connection while it is in the pipeline; closes it when the listener is full.
    private final class Counter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let limit: ConnectionLimit
        private var admitted = false

        init(limit: ConnectionLimit) { self.limit = limit }

        func handlerAdded(context: ChannelHandlerContext) {
            admitted = limit.admit()
            if !admitted { context.close(promise: nil) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if admitted { limit.release() }
            admitted = false
        }
    }
}
