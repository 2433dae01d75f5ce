import APITypes
import HummingbirdWebSocket
import NIOCore
import NIOPosix
import Synchronization

/// Joins a WebSocket client to a VM's serial console socket, both ways. QEMU serves one console
/// client at a time, so a second attach is refused instead of hanging.
final class ConsoleBridge: Sendable {
    private let attached = Mutex<Set<String>>([])

    func run(vm: String, socketPath: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        guard attached.withLock({ $0.insert(vm).inserted }) else {
            try await outbound.close(.policyViolation, reason: "another console session is attached to VM '\(vm)'")
            return
        }
        defer { _ = attached.withLock { $0.remove(vm) } }
        let console = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await console.executeThenClose { fromGuest, toGuest in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await buffer in fromGuest { try await outbound.write(.binary(buffer)) }
                    try await outbound.close(.normalClosure, reason: "the VM's console closed")
                }
                group.addTask {
                    for try await frame in inbound {
                        try await toGuest.write(frame.data)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
