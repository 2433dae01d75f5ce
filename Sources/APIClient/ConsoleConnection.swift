import APITypes
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A WebSocket to a VM's serial console (`GET /v1/vms/{name}/console` upgraded), over the daemon's unix socket.
public struct ConsoleConnection: Sendable {
    let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    /// Connects and upgrades. - Throws: `unavailable` when the daemon is not there, `notFound` when refused.
    public static func open(socketPath: String, vm: String) async throws -> ConsoleConnection {
        ConsoleConnection(channel: try await DaemonWebSocket.open(socketPath: socketPath, vm: vm, endpoint: "console"))
    }

    /// Runs the session: `input` goes to the guest, guest output to `output`, until the input ends,
    /// `output` returns false, or the daemon closes the console (its reason is returned).
    public func run(input: some AsyncSequence<ByteBuffer, any Error> & Sendable,
                    output: @escaping @Sendable (ByteBuffer) -> Bool) async throws -> String? {
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    for try await frame in inbound {
                        switch frame.opcode {
                        case .binary, .text, .continuation:
                            if !output(frame.unmaskedData) { return nil }
                        case .connectionClose:
                            var data = frame.unmaskedData
                            _ = data.readWebSocketErrorCode()
                            return data.readString(length: data.readableBytes)
                        case .ping:
                            try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
                        default:
                            break
                        }
                    }
                    return nil
                }
                group.addTask {
                    for try await buffer in input {
                        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: buffer))
                    }
                    return nil
                }
                let reason = try await group.next() ?? nil
                group.cancelAll()
                return reason
            }
        }
    }
}
