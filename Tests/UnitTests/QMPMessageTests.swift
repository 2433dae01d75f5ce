import Foundation
import NIOCore
import NIOEmbedded
@testable import QMP
import Testing

@Suite("QMP wire format")
struct QMPMessageTests {
    @Test("parses greetings, replies, errors and events")
    func parses() throws {
        guard case .greeting(let version) = try QMPMessage.parse(Data(#"{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}"#.utf8)) else {
            Issue.record("not a greeting"); return
        }
        #expect(version["qemu"]?["major"]?.intValue == 7)
        guard case .success(let id, let result) = try QMPMessage.parse(Data(#"{"return": {"status": "running", "running": true}, "id": 4}"#.utf8)) else {
            Issue.record("not a reply"); return
        }
        #expect(id == 4 && result["running"]?.boolValue == true)
        guard case .failure(_, let errorClass, let description) = try QMPMessage.parse(Data(#"{"error": {"class": "CommandNotFound", "desc": "nope"}, "id": 5}"#.utf8)) else {
            Issue.record("not an error"); return
        }
        #expect(errorClass == "CommandNotFound" && description == "nope")
        guard case .event(let event) = try QMPMessage.parse(Data(#"{"event": "STOP", "timestamp": {"seconds": 10, "microseconds": 500000}}"#.utf8)) else {
            Issue.record("not an event"); return
        }
        #expect(event.name == "STOP" && event.timestamp.timeIntervalSince1970 == 10.5)
    }

    @Test("anything else is a protocol violation, never a crash", arguments: [
        "", "garbage", "[1,2]", "42", #"{"unknown": 1}"#, #"{"event": 5}"#, "{\"return\":", String(repeating: "{", count: 10_000),
    ])
    func refusesGarbage(line: String) {
        #expect(throws: QMPError.self) { try QMPMessage.parse(Data(line.utf8)) }
    }

    @Test("random bytes never crash the parser")
    func randomInput() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? QMPMessage.parse(Data(bytes))
        }
    }

    @Test("the line decoder splits on newlines, strips CR, and refuses an endless line")
    func lineDecoder() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(QMPLineDecoder(maximumLength: 64)))
        try channel.writeInbound(ByteBuffer(string: "{\"a\":1}\r\n{\"b\""))
        try channel.writeInbound(ByteBuffer(string: ":2}\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "{\"a\":1}")
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "{\"b\":2}")
        #expect(throws: QMPError.self) { try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 100))) }
    }
}
