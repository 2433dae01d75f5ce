import AgentProtocol
import NIOCore

/// NIO adapter for `FrameDecoder`: turns the guest's byte stream into frames, bounded by
/// `Frame.maximumPayload`; a violation closes the connection. Bytes before the guest's hello
/// (the tail of a frame sent to the host a VM migrated from) are skipped.
struct FrameByteDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    private var decoder = FrameDecoder(synchronizeOn: MessageCodec.helloMarker)

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            decoder.append(buffer.readableBytesView)
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        }
        while let frame = try decoder.next() {
            context.fireChannelRead(wrapInboundOut(frame))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
