/// The 9 bytes in front of every frame: payload length, kind, channel (big-endian).
public struct FrameHeader: Sendable, Equatable {
    public var length: Int
    public var kind: FrameKind
    public var channel: UInt32

    public init(length: Int, kind: FrameKind, channel: UInt32) {
        self.length = length
        self.kind = kind
        self.channel = channel
    }

    /// Parses and checks a header.
    /// - Throws: `.oversizedFrame` beyond `maximumPayload`, `.unknownFrameKind`.
    public init(_ bytes: ArraySlice<UInt8>, maximumPayload: Int = Frame.maximumPayload) throws(AgentProtocolError) {
        precondition(bytes.count >= Frame.headerSize)
        let start = bytes.startIndex
        func word(_ offset: Int) -> UInt32 {
            (UInt32(bytes[start + offset]) << 24) | (UInt32(bytes[start + offset + 1]) << 16)
                | (UInt32(bytes[start + offset + 2]) << 8) | UInt32(bytes[start + offset + 3])
        }
        let length = Int(word(0))
        guard length <= maximumPayload else { throw .oversizedFrame(length) }
        guard let kind = FrameKind(rawValue: bytes[start + 4]) else { throw .unknownFrameKind(bytes[start + 4]) }
        self.init(length: length, kind: kind, channel: word(5))
    }

    public func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(Frame.headerSize)
        bytes += Self.bigEndian(UInt32(length))
        bytes.append(kind.rawValue)
        bytes += Self.bigEndian(channel)
        return bytes
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}
