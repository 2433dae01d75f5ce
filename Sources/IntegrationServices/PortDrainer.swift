import NIOCore
import NIOPosix
import Synchronization

/// After a guest broke the protocol, its port's byte stream is out of step: whatever the guest
/// still has queued would break the next connection too. The drainer reads and drops bytes
/// until the port has been quiet for a moment, so the next hello starts on a frame boundary.
enum PortDrainer {
    /// Reads and discards until `quiet` passes without a byte, or `limit` is reached.
    /// Returns false when the guest was still sending at the limit.
    static func drain(socketPath: String, quiet: Duration = .seconds(1), limit: Duration = .seconds(30)) async -> Bool {
        let clock = ContinuousClock()
        let start = clock.now
        let discarder = Discarder(start: start)
        guard let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer({ channel in channel.pipeline.addHandler(discarder) })
            .connect(unixDomainSocketPath: socketPath).get() else { return false }
        defer { channel.close(promise: nil) }
        while clock.now - start < limit {
            try? await Task.sleep(for: .milliseconds(250))
            if Task.isCancelled || !channel.isActive { return false }
            if clock.now - discarder.lastRead > quiet { return true }
        }
        return false
    }

    /// Drops everything it reads and notes when the last bytes came.
    private final class Discarder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let lastReadOffset = Atomic<Int64>(0)
        private let start: ContinuousClock.Instant

        init(start: ContinuousClock.Instant) { self.start = start }

        var lastRead: ContinuousClock.Instant {
            start + .nanoseconds(lastReadOffset.load(ordering: .relaxed))
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let elapsed = ContinuousClock.now - start
            let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            lastReadOffset.store(nanoseconds, ordering: .relaxed)
        }
    }
}
