import AgentProtocol
import AsyncAlgorithms

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
