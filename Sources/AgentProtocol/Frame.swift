/// One unit on an integration service channel: a 9-byte header (payload length, kind, channel id;
/// big-endian) followed by the payload. Control messages are JSON; bulk data (file contents, process
/// output) travels as raw bytes so copies run near the speed of the virtio-serial port itself.
public struct Frame: Sendable, Equatable {
    /// The largest payload either side accepts. Anything larger is a protocol violation.
    public static let maximumPayload = 1024 * 1024
    /// Header size: 4 bytes length, 1 byte kind, 4 bytes channel.
    public static let headerSize = 9

    public var kind: FrameKind
    /// Which request or session the frame belongs to (0 for service-wide messages).
    public var channel: UInt32
    public var payload: [UInt8]

    public init(kind: FrameKind, channel: UInt32 = 0, payload: [UInt8]) {
        self.kind = kind
        self.channel = channel
        self.payload = payload
    }

    /// The frame's header.
    public var header: FrameHeader { FrameHeader(length: payload.count, kind: kind, channel: channel) }

    /// The frame as bytes on the wire.
    public func encoded() -> [UInt8] {
        header.encoded() + payload
    }
}

/// What a frame's payload is.
public enum FrameKind: UInt8, Sendable {
    /// A JSON control message (`AgentEnvelope`).
    case message = 0
    /// Bulk bytes: file contents for `fcopy`, standard input for `session`.
    case data = 1
    /// A guest process's standard output.
    case stdout = 2
    /// A guest process's standard error.
    case stderr = 3
}
