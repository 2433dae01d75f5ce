import FoundationEssentials

/// A control message of the integration services protocol. Each type has a unique wire name;
/// on the wire a message is the JSON object `{"type": NAME, "body": {…}}` in a `.message` frame.
public protocol AgentMessage: Codable, Sendable {
    static var type: String { get }
}

/// Encodes and decodes control messages, refusing anything malformed.
public enum MessageCodec {
    private struct Envelope<Body: Codable>: Codable {
        var type: String
        var body: Body
    }

    private struct Header: Decodable {
        var type: String
    }

    /// How every encoded `Hello` payload begins: what a host looks for on a new connection.
    public static let helloMarker = Array(#"{"type":"hello""#.utf8)

    /// The frame carrying `message` on `channel`. The envelope is written by hand so `type`
    /// always comes first (JSON object order is otherwise unspecified): a host finds a hello by it.
    public static func frame<Message: AgentMessage>(_ message: Message, channel: UInt32 = 0) -> Frame {
        // Encoding plain Codable structs and strings cannot fail.
        let type = (try? JSONEncoder().encode(Message.type)) ?? Data()
        let body = (try? JSONEncoder().encode(message)) ?? Data("{}".utf8)
        let payload = Array(#"{"type":"#.utf8) + Array(type) + Array(#","body":"#.utf8) + Array(body) + [UInt8(ascii: "}")]
        return Frame(kind: .message, channel: channel, payload: payload)
    }

    /// The type name of the message in `frame`.
    public static func type(of frame: Frame) throws(AgentProtocolError) -> String {
        guard frame.kind == .message else { throw .unexpectedMessage("data frame") }
        do {
            return try JSONDecoder().decode(Header.self, from: Data(frame.payload)).type
        } catch {
            throw .malformedMessage("no message type")
        }
    }

    /// The message in `frame`, decoded as `Message`.
    public static func decode<Message: AgentMessage>(_: Message.Type, from frame: Frame) throws(AgentProtocolError) -> Message {
        do {
            let envelope = try JSONDecoder().decode(Envelope<Message>.self, from: Data(frame.payload))
            guard envelope.type == Message.type else { throw AgentProtocolError.unexpectedMessage(envelope.type) }
            return envelope.body
        } catch let error as AgentProtocolError {
            throw error
        } catch {
            throw .malformedMessage("\(Message.type): \(error)")
        }
    }
}
