import AgentProtocol
import APITypes
import Foundation
import IntegrationServices
import Logging
import Testing

/// The host side of a service port against a scripted "guest" on a real unix socket.
@Suite("Host side of an integration service port")
struct AgentConnectionTests {
    @Test("a good hello is welcomed with the highest common versions")
    func negotiates() async throws {
        let guest = try ScriptedGuest()
        defer { guest.close() }
        try await withConnection(guest, service: .kvp) { connection, serve in
            let request = try await guest.readFrame()
            #expect(try MessageCodec.type(of: request) == HelloRequest.type)
            try guest.send(MessageCodec.frame(Hello(frameworkVersions: [1, 7], service: "kvp", serviceVersions: [0, 1],
                                                    release: "0.2.0", agent: "viridian-guest")))
            let welcome = try MessageCodec.decode(Welcome.self, from: try await guest.readFrame())
            #expect(welcome.frameworkVersion == 1 && welcome.serviceVersion == 1)
            #expect(connection.negotiated?.release == "0.2.0")
            guest.close()
            try await serve.value
        }
    }

    @Test("a hello for another service or with no common version is refused")
    func refusesBadHello() async throws {
        let guest = try ScriptedGuest()
        defer { guest.close() }
        try await withConnection(guest, service: .kvp) { connection, serve in
            _ = try await guest.readFrame()
            try guest.send(MessageCodec.frame(Hello(frameworkVersions: [1], service: "session", serviceVersions: [1],
                                                    release: "0.2.0", agent: "x")))
            #expect(try MessageCodec.type(of: try await guest.readFrame()) == Refused.type)
            try guest.send(MessageCodec.frame(Hello(frameworkVersions: [99], service: "kvp", serviceVersions: [1],
                                                    release: "0.2.0", agent: "x")))
            #expect(try MessageCodec.type(of: try await guest.readFrame()) == Refused.type)
            #expect(connection.negotiated == nil)
            guest.close()
            try await serve.value
        }
    }

    @Test("the tail of a frame meant for the host a VM migrated from is skipped up to the guest's hello")
    func skipsAMigrationTail() async throws {
        let guest = try ScriptedGuest()
        defer { guest.close() }
        try await withConnection(guest, service: .heartbeat) { connection, serve in
            _ = try await guest.readFrame()
            let beat = MessageCodec.frame(Beat(health: .ok, reason: nil)).encoded()
            try guest.send(raw: Array(beat.dropFirst(5)) + beat)
            try guest.send(MessageCodec.frame(Hello(frameworkVersions: [1], service: "heartbeat", serviceVersions: [1],
                                                    release: "0.2.0", agent: "viridian-guest")))
            #expect(try MessageCodec.type(of: try await guest.readFrame()) == Welcome.type)
            #expect(connection.negotiated?.release == "0.2.0")
            guest.close()
            try await serve.value
        }
        let encoded = MessageCodec.frame(Hello(frameworkVersions: [1], service: "kvp", serviceVersions: [1], release: "0.2.0", agent: "a"))
        #expect(encoded.payload.starts(with: MessageCodec.helloMarker))
    }

    @Test("after the hello, an oversized frame, garbage, or a flood ends the connection with a protocol error")
    func violationsEndTheConnection() async throws {
        let attacks: [[UInt8]] = [
            [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0],
            Array(repeating: 0xAB, count: 4096),
            (0..<1000).flatMap { _ in MessageCodec.frame(Beat(health: .ok, reason: nil)).encoded() },
        ]
        for attack in attacks {
            let guest = try ScriptedGuest()
            defer { guest.close() }
            try await withConnection(guest, service: .heartbeat) { _, serve in
                _ = try await guest.readFrame()
                try guest.send(MessageCodec.frame(Hello(frameworkVersions: [1], service: "heartbeat", serviceVersions: [1],
                                                        release: "0.2.0", agent: "viridian-guest")))
                _ = try await guest.readFrame()
                try guest.send(raw: attack)
                await #expect(throws: AgentProtocolError.self) { try await serve.value }
            }
        }
    }

    private func withConnection(_ guest: ScriptedGuest, service: IntegrationService,
                                _ body: (AgentConnection, Task<Void, any Error>) async throws -> Void) async throws {
        let connection = try await AgentConnection.connect(socketPath: guest.path, service: service, hostRelease: "0.2.0",
                                                           logger: Logger(label: "test"))
        try guest.accept()
        let serve = Task { try await connection.serve(onNegotiated: { _ in }, onMessage: { _ in }) }
        defer { connection.close() }
        try await body(connection, serve)
    }
}

/// A blocking unix-socket server playing the guest's end of a port.
final class ScriptedGuest: @unchecked Sendable {
    let path: String
    private var listener: Int32
    private var peer: Int32 = -1
    private var decoder = FrameDecoder()

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ic-\(UUID().uuidString.prefix(8)).sock").path
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    func accept() throws {
        peer = Glibc.accept(listener, nil, nil)
    }

    func send(_ frame: Frame) throws { try send(raw: frame.encoded()) }

    func send(raw bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(peer, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// The next frame from the host; polls without blocking a cooperative thread.
    func readFrame() async throws -> Frame {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            if let frame = try decoder.next() { return frame }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(peer, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                decoder.append(buffer[0..<count])
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard ContinuousClock.now < deadline else { throw ViridianError(.timeout, "the host sent no frame within 60 s") }
                try await Task.sleep(for: .milliseconds(5))
            } else {
                throw ViridianError(.notResponding, "the host closed the connection before a whole frame came")
            }
        }
    }

    /// Closes both sockets once; later calls do nothing (a second close could hit a reused descriptor).
    func close() {
        if peer >= 0 { Glibc.close(peer); peer = -1 }
        if listener >= 0 { Glibc.close(listener); listener = -1; unlink(path) }
    }
}
