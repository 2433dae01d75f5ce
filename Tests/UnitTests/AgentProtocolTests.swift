import AgentProtocol
import Foundation
import Testing

@Suite("Integration services wire protocol")
struct AgentProtocolTests {
    @Test("frames survive any split of the byte stream")
    func framesSurviveArbitrarySplits() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let frames = (0..<Int.random(in: 1...8, using: &generator)).map { index in
                Frame(kind: [.message, .data, .stdout, .stderr].randomElement(using: &generator)!, channel: UInt32(index),
                      payload: (0..<Int.random(in: 0...3000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }
            let stream = frames.flatMap { $0.encoded() }
            var decoder = FrameDecoder()
            var decoded: [Frame] = []
            var offset = 0
            while offset < stream.count {
                let length = Int.random(in: 1...max(1, stream.count / 3), using: &generator)
                decoder.append(stream[offset..<min(stream.count, offset + length)])
                offset += length
                while let frame = try decoder.next() { decoded.append(frame) }
            }
            #expect(decoded == frames)
            #expect(decoder.pendingByteCount == 0)
        }
    }

    @Test("an oversized frame or an unknown kind is refused before its payload is buffered")
    func refusesOversizedAndUnknownFrames() {
        var oversized = FrameDecoder()
        oversized.append([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1])
        #expect(throws: AgentProtocolError.oversizedFrame(Int(UInt32.max))) { try oversized.next() }

        var unknown = FrameDecoder()
        unknown.append([0, 0, 0, 1, 9, 0, 0, 0, 0, 42])
        #expect(throws: AgentProtocolError.unknownFrameKind(9)) { try unknown.next() }
    }

    @Test("random bytes never crash the decoder and never grow its buffer past one frame")
    func fuzzDecoder() {
        var generator = SystemRandomNumberGenerator()
        var rejected = 0
        for _ in 0..<2000 {
            var decoder = FrameDecoder(maximumPayload: 4096)
            let bytes = (0..<Int.random(in: 0...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            decoder.append(bytes)
            do {
                while let frame = try decoder.next() {
                    #expect(frame.payload.count <= 4096)
                    _ = try? MessageCodec.type(of: frame)
                    _ = try? MessageCodec.decode(Hello.self, from: frame)
                }
                #expect(decoder.pendingByteCount <= 4096 + Frame.headerSize)
            } catch {
                rejected += 1
            }
        }
        // Random headers mostly announce huge or unknown frames: the decoder must notice.
        #expect(rejected > 1000)
    }

    @Test("malformed or mistyped messages are errors, not crashes")
    func malformedMessages() throws {
        let cases: [String] = ["", "{", "null", "[]", #"{"type": 5}"#, #"{"type": "hello"}"#,
                               #"{"type": "hello", "body": {"service": 1}}"#, #"{"type": "beat", "body": {"health": "ok"}}"#,
                               String(repeating: "[", count: 10_000)]
        for text in cases {
            let frame = Frame(kind: .message, payload: Array(text.utf8))
            #expect(throws: AgentProtocolError.self) { try MessageCodec.decode(Hello.self, from: frame) }
        }
        let data = Frame(kind: .data, payload: Array(#"{"type": "hello"}"#.utf8))
        #expect(throws: AgentProtocolError.self) { try MessageCodec.type(of: data) }

        let hello = Hello(frameworkVersions: [1], service: "kvp", serviceVersions: [1], release: "0.2.0", agent: "viridian-guest")
        let frame = MessageCodec.frame(hello, channel: 7)
        #expect(try MessageCodec.type(of: frame) == Hello.type)
        #expect(try MessageCodec.decode(Hello.self, from: frame).service == "kvp")
        #expect(frame.channel == 7)
    }

    @Test("releases compare numerically; versions negotiate to the highest common one")
    func releasesAndVersions() throws {
        let older = try #require(Release("0.9.10"))
        let newer = try #require(Release("0.10.0"))
        #expect(older < newer)
        #expect(Release("1.0") == Release("1.0.0"))
        for bad in ["", "1..2", "a.b", "-1.0", "1.2.3.4.5", "1.0 ", String(repeating: "1", count: 40)] {
            #expect(Release(bad) == nil, "\(bad)")
        }
        #expect(highestCommonVersion([1, 2, 3], [2, 3, 4]) == 3)
        #expect(highestCommonVersion([1], [2]) == nil)
    }

    @Test("KVP items follow Hyper-V's size limits")
    func kvpLimits() {
        #expect(KVPLimits.violation(key: "k", value: "v") == nil)
        #expect(KVPLimits.violation(key: "", value: "v") != nil)
        #expect(KVPLimits.violation(key: String(repeating: "k", count: 513), value: "v") != nil)
        #expect(KVPLimits.violation(key: "k", value: String(repeating: "v", count: 2049)) != nil)
        #expect(KVPLimits.violation(key: String(repeating: "k", count: 512), value: String(repeating: "v", count: 2048)) == nil)
    }
}
