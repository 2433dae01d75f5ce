/// A violation of the integration services protocol by the other side.
public enum AgentProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    case oversizedFrame(Int)
    case unknownFrameKind(UInt8)
    case malformedMessage(String)
    case unexpectedMessage(String)

    public var description: String {
        switch self {
        case .oversizedFrame(let length): "frame of \(length) bytes exceeds the limit of \(Frame.maximumPayload)"
        case .unknownFrameKind(let kind): "unknown frame kind \(kind)"
        case .malformedMessage(let reason): "malformed message: \(reason)"
        case .unexpectedMessage(let type): "unexpected message \(type)"
        }
    }
}
