import APITypes
import AsyncAlgorithms
import Foundation
import NIOCore
import NIOWebSocket

/// What the CLI sends during a session: input bytes or a control message.
public enum SessionClientInput: Sendable {
    case data(ByteBuffer)
    case control(SessionControl)
}

/// A direct session with a program in the guest (`GET /v1/vms/{name}/exec` upgraded).
public struct SessionConnection: Sendable {
    let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    public static func open(socketPath: String, vm: String) async throws -> SessionConnection {
        SessionConnection(channel: try await DaemonWebSocket.open(socketPath: socketPath, vm: vm, endpoint: "exec"))
    }

    /// Starts the program and runs the session until it ends: `input` goes to the program,
    /// its output to `output`. Returns how it ended.
    public func run(_ start: SessionStart, input: AsyncChannel<SessionClientInput>,
                    output: @escaping @Sendable (SessionStream, ByteBufferView) -> Void) async throws -> SessionEnd {
        try await channel.executeThenClose { inbound, outbound in
            let first = try WireJSON.encoder().encode(start)
            try await outbound.write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: first)))
            // Each write waits until the socket takes it, so standard input is read no faster than viridiand
            // (and, through it, the guest) takes it. A failed write means the session is gone: the reader
            // below reports how it ended.
            let feeder = Task {
                do {
                    for await item in input {
                        switch item {
                        case .data(let buffer):
                            try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: buffer))
                        case .control(let control):
                            let data = try WireJSON.encoder().encode(control)
                            try await outbound.write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: data)))
                        }
                    }
                } catch {
                    input.finish()
                }
            }
            defer { feeder.cancel() }
            var text = ByteBuffer()
            for try await frame in inbound {
                switch frame.opcode {
                case .binary:
                    var data = frame.unmaskedData
                    guard let tag = data.readInteger(as: UInt8.self), let stream = SessionStream(rawValue: tag) else { continue }
                    output(stream, data.readableBytesView)
                case .text, .continuation:
                    var data = frame.unmaskedData
                    text.writeBuffer(&data)
                    guard frame.fin else { continue }
                    let end = try WireJSON.decoder().decode(SessionEnd.self, from: Data(text.readableBytesView))
                    try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: ByteBuffer()))
                    return end
                case .ping:
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
                case .connectionClose:
                    break
                default:
                    continue
                }
            }
            throw ViridianError(.notResponding, "viridiand closed the session without saying how the program ended")
        }
    }
}
