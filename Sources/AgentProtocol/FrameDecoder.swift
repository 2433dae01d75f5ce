/// Splits a byte stream into frames. Bounded: a header announcing more than `maximumPayload`
/// bytes or an unknown kind is an error, and the buffer never holds more than one frame's worth.
///
/// With a `synchronizeOn` marker the decoder first skips bytes up to the first control message
/// whose payload starts with the marker (the guest's hello): a new connection may begin with the
/// tail of a frame the guest wrote to another host (a live migration moved the port mid-frame).
/// At most one frame's worth is skipped; after that it is strict.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    public let maximumPayload: Int
    private var marker: [UInt8]?
    /// Bytes skipped while looking for the marker.
    public private(set) var skippedByteCount = 0

    public init(maximumPayload: Int = Frame.maximumPayload, synchronizeOn marker: [UInt8]? = nil) {
        self.maximumPayload = maximumPayload
        self.marker = marker
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
        guard try synchronize() else { return nil }
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

    /// Skips to the marked frame; true once there (or with no marker).
    private mutating func synchronize() throws(AgentProtocolError) -> Bool {
        while let marker {
            guard buffer.count - start >= Frame.headerSize + marker.count else { return false }
            let payloadStart = start + Frame.headerSize
            if let header = try? FrameHeader(buffer[start..<payloadStart], maximumPayload: maximumPayload),
               header.kind == .message, header.channel == 0, header.length >= marker.count,
               buffer[payloadStart..<payloadStart + marker.count].elementsEqual(marker) {
                self.marker = nil
                return true
            }
            start += 1
            skippedByteCount += 1
            guard skippedByteCount <= Frame.headerSize + maximumPayload else {
                throw .unexpectedMessage("no hello within \(skippedByteCount) bytes")
            }
        }
        return true
    }

    /// Bytes received but not yet returned as a frame.
    public var pendingByteCount: Int { buffer.count - start }

}
