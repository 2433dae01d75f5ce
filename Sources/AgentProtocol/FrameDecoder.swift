/// Splits a byte stream into frames. Bounded: a header announcing more than `maximumPayload`
/// bytes or an unknown kind is an error, and the buffer never holds more than one frame's worth.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    public let maximumPayload: Int

    public init(maximumPayload: Int = Frame.maximumPayload) {
        self.maximumPayload = maximumPayload
    }

    /// Adds bytes read from the channel.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    /// - Throws: `AgentProtocolError.oversizedFrame` or `.unknownFrameKind`; the stream is unusable afterwards.
    public mutating func next() throws(AgentProtocolError) -> Frame? {
        let available = buffer.count - start
        guard available >= Frame.headerSize else { return nil }
        let header = try FrameHeader(buffer[start..<start + Frame.headerSize], maximumPayload: maximumPayload)
        guard available >= Frame.headerSize + header.length else { return nil }
        let payloadStart = start + Frame.headerSize
        let frame = Frame(kind: header.kind, channel: header.channel,
                          payload: Array(buffer[payloadStart..<payloadStart + header.length]))
        start = payloadStart + header.length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return frame
    }

    /// Bytes received but not yet returned as a frame.
    public var pendingByteCount: Int { buffer.count - start }

}
