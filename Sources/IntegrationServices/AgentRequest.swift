import AgentProtocol
import APITypes
import AsyncAlgorithms
import Glibc
import NIOCore

/// One request on a numbered channel of an `AgentConnection`. Close it when done (`defer`).
public struct AgentRequest: Sendable {
    public let id: UInt32
    let inbox: AsyncChannel<Frame>
    let connection: AgentConnection

    /// Sends a control message on this request's channel.
    public func send<Message: AgentMessage>(_ message: Message) async throws {
        try await connection.send(message, channel: id)
    }

    /// Sends bulk bytes on this request's channel.
    public func sendData(_ bytes: [UInt8], kind: FrameKind = .data) async throws {
        try await connection.send(Frame(kind: kind, channel: id, payload: bytes))
    }

    /// Reads up to `count` bytes from `fd` straight into one `.data` frame and sends it: the bytes
    /// are copied once, from the file into the frame. Returns how many were sent (0 at end of file).
    /// - Throws: `ViridianError` when the read fails; `AgentConnectionError` when the guest is gone.
    public func sendData(readingFrom fd: Int32, upTo count: Int) async throws -> Int {
        precondition(count > 0 && count <= Frame.maximumPayload)
        var frame = ByteBufferAllocator().buffer(capacity: Frame.headerSize + count)
        frame.writeBytes(FrameHeader(length: 0, kind: .data, channel: id).encoded())
        var failure: Int32 = 0
        let read = frame.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { buffer in
            while true {
                let result = Glibc.read(fd, buffer.baseAddress, count)
                if result >= 0 { return result }
                if errno != EINTR {
                    failure = errno
                    return 0
                }
            }
        }
        if failure != 0 {
            throw ViridianError(.engineFailure, "cannot read the file to copy: \(String(cString: strerror(failure)))")
        }
        guard read > 0 else { return 0 }
        frame.setInteger(UInt32(read), at: 0)
        try await connection.send(encoded: frame)
        return read
    }

    /// The next frame from the guest on this channel, or nil once the connection closed.
    /// - Throws: `AgentConnectionError.timeout` after `timeout`.
    public func next(timeout: Duration, what: String) async throws -> Frame? {
        try await withThrowingTaskGroup(of: Frame?.self) { group in
            group.addTask {
                var iterator = inbox.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw AgentConnectionError.timeout(connection.service, what)
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// Waits for a control message of type `Message` on this channel.
    public func reply<Message: AgentMessage>(_: Message.Type, timeout: Duration) async throws -> Message {
        while true {
            guard let frame = try await next(timeout: timeout, what: Message.type) else {
                throw AgentConnectionError.disconnected(connection.service)
            }
            guard frame.kind == .message else { continue }
            return try MessageCodec.decode(Message.self, from: frame)
        }
    }

    /// Every frame until the channel closes; the caller bounds the wait per frame.
    public var frames: AsyncChannel<Frame> { inbox }

    public func close() {
        connection.closeRequest(id)
    }
}
