import APITypes
import HummingbirdWebSocket
import NIOCore
import NIOPosix
import Synchronization

/// Joins a WebSocket client to one of a VM's sockets, both ways: its serial console, or its VNC
/// server (the graphical console). One client at a time per VM and kind (QEMU serves one console
/// client), so a second attach is refused instead of hanging.
final class ConsoleBridge: Sendable {
    /// What a session is attached to.
    enum Kind: String, Sendable {
        case serial = "console"
        case graphical = "graphical console"
    }

    private let attached = Mutex<Set<String>>([])

    func run(vm: String, kind: Kind = .serial, socketPath: String, inbound: WebSocketInboundStream,
             outbound: WebSocketOutboundWriter) async throws {
        let key = "\(kind.rawValue)/\(vm.lowercased())"
        guard attached.withLock({ $0.insert(key).inserted }) else {
            try await outbound.close(.policyViolation, reason: "another \(kind.rawValue) session is attached to VM '\(vm)'")
            return
        }
        defer { _ = attached.withLock { $0.remove(key) } }
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
                    try await outbound.close(.normalClosure, reason: "the VM's \(kind.rawValue) closed")
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
