import struct Foundation.Data
import struct Foundation.Date
import class Foundation.JSONDecoder

/// An asynchronous event QEMU sent (`STOP`, `RESUME`, `SHUTDOWN`, `MIGRATION`…).
public struct QMPEvent: Sendable {
    public var name: String
    public var data: JSONValue
    public var timestamp: Date
}

/// One message from QEMU's monitor, as the wire format defines them.
enum QMPMessage: Sendable {
    case greeting(version: JSONValue)
    case success(id: Int64?, result: JSONValue)
    case failure(id: Int64?, errorClass: String, description: String)
    case event(QMPEvent)

    /// Parses one line of QMP output.
    /// - Throws: `QMPError.protocolViolation` for anything that is not a QMP message.
    static func parse(_ line: Data) throws -> QMPMessage {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: line)
        } catch {
            throw QMPError.protocolViolation("not JSON: \(String(decoding: line.prefix(120), as: UTF8.self))")
        }
        guard case .object(let members) = value else { throw QMPError.protocolViolation("not a JSON object") }
        let id = members["id"]?.intValue
        if let greeting = members["QMP"] {
            return .greeting(version: greeting["version"] ?? .null)
        }
        if let result = members["return"] {
            return .success(id: id, result: result)
        }
        if let error = members["error"] {
            return .failure(id: id, errorClass: error["class"]?.stringValue ?? "GenericError",
                            description: error["desc"]?.stringValue ?? "unknown error")
        }
        if let name = members["event"]?.stringValue {
            let stamp = members["timestamp"]
            let seconds = Double(stamp?["seconds"]?.intValue ?? 0) + Double(stamp?["microseconds"]?.intValue ?? 0) / 1e6
            return .event(QMPEvent(name: name, data: members["data"] ?? .null,
                                   timestamp: Date(timeIntervalSince1970: seconds)))
        }
        throw QMPError.protocolViolation("unknown message with keys \(members.keys.sorted())")
    }
}
