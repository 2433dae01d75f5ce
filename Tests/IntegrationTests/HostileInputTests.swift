import APIClient
import APITypes
import Foundation
import HostTools
import Testing

/// The API under hostile or careless input, against a real viridiand: HTTP that is not HTTP,
/// connections that never finish, more connections than a listener holds, bodies over the limit,
/// names in URLs, and free text.
@Suite("Hostile input", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct HostileInputTests {
    /// A daemon with a 2 s idle timeout and room for 8 API connections.
    static func withStrictDaemon(_ body: (TestDaemon) async throws -> Void) async throws {
        let daemon = try TestDaemon()
        daemon.arguments = ["--connection-idle-timeout", "2", "--max-api-connections", "8"]
        do {
            try await daemon.start()
            try await body(daemon)
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }

    @Test("malformed HTTP gets 400 and the connection closes; idle and half-sent requests are closed; a body over 1 MiB gets 413")
    func malformedAndUnfinishedHTTP() async throws {
        try await Self.withStrictDaemon { daemon in
            let malformed: [(String, String)] = [
                ("a garbage request line", "GARBAGE\r\n\r\n"),
                ("an unknown method", "FROB /v1/host HTTP/1.1\r\nHost: x\r\n\r\n"),
                ("oversized headers", "GET /v1/host HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n"),
                ("a negative Content-Length", "POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
                ("Content-Length with chunked", "POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            ]
            for (what, request) in malformed {
                let connection = try RawConnection(unixPath: daemon.socket)
                connection.send(request)
                let answer = connection.readUntilClosed(within: .seconds(10))
                #expect(answer?.hasPrefix("HTTP/1.1 400") == true, "\(what): \(answer.map { String($0.prefix(200)) } ?? "still open after 10 s")")
            }
            let unfinished: [(String, String)] = [
                ("an idle connection", ""),
                ("half a header", "GET /v1/host HTTP/1.1\r\nHost: x\r\n"),
                ("half a body", "POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":"),
            ]
            for (what, request) in unfinished {
                let connection = try RawConnection(unixPath: daemon.socket)
                connection.send(request)
                #expect(connection.readUntilClosed(within: .seconds(15)) != nil, "\(what) is closed by the 2 s idle timeout")
            }
            // A keep-alive connection that goes idle after a request is closed too.
            let keepAlive = try RawConnection(unixPath: daemon.socket)
            keepAlive.send("GET /v1/host HTTP/1.1\r\nHost: x\r\n\r\n")
            let idleAfter = keepAlive.readUntilClosed(within: .seconds(15))
            #expect(idleAfter?.hasPrefix("HTTP/1.1 200") == true, "answered, then closed when idle: \(idleAfter.map { String($0.prefix(100)) } ?? "open")")

            let big = String(repeating: "x", count: 2 << 20)
            let large = try RawConnection(unixPath: daemon.socket)
            large.send("POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(big.utf8.count + 11)\r\n\r\n{\"name\":\"\(big)\"}")
            let tooLarge = large.readUntilClosed(within: .seconds(15)) ?? ""
            #expect(tooLarge.hasPrefix("HTTP/1.1 413") && tooLarge.contains("larger than the limit of 1 MiB") && !tooLarge.contains("NIOTooManyBytes"),
                    "\(tooLarge.prefix(300))")
            #expect(await daemon.cli(["host", "show"]).exitCode == 0, "the daemon still answers")
        }
    }

    @Test("a listener holds at most its connections; 500 clients connecting at once are all accepted")
    func connectionCapAndBacklog() async throws {
        try await Self.withStrictDaemon { daemon in
            var held: [RawConnection] = []
            for _ in 0..<8 { held.append(try RawConnection(unixPath: daemon.socket)) }
            let extra = try RawConnection(unixPath: daemon.socket)
            #expect(extra.readUntilClosed(within: .seconds(5)) != nil, "the ninth connection is closed at once")
            held.removeAll()
            try await eventually("the API answers again once the held connections are gone", timeout: .seconds(15)) {
                await daemon.cli(["host", "show"]).exitCode == 0
            }
            // The backlog: a burst of connects, none refused by a full accept queue.
            var refused = 0
            var burst: [RawConnection] = []
            for _ in 0..<500 {
                do { burst.append(try RawConnection(unixPath: daemon.socket)) } catch { refused += 1 }
            }
            #expect(refused == 0, "\(refused) of 500 connects were refused (backlog)")
        }
    }

    @Test("names: one rule for VMs and switches, spaces in switch names work through URLs; errors quote only a prefix; free text is bounded")
    func namesAndText() async throws {
        try await SwitchLab.with(namespaces: 1) { daemon, _ in
            let spaced = "Lab Switch"
            #expect(await daemon.cli(["switch", "new", spaced, "--type", "private"]).exitCode == 0)
            #expect(try await daemon.json(VirtualSwitchInfo.self, ["switch", "show", spaced]).name == spaced)
            #expect(await daemon.cli(["switch", "set", spaced, "--notes", "rack 4"]).exitCode == 0)
            #expect(await daemon.cli(["switch", "remove", spaced]).exitCode == 0, "a name with a space is shown, changed and removed")
            for bad in ["Ünïcode", "evil\u{202E}txt", "two  spaces", " leading", "tab\there", "a/b"] {
                let created = await daemon.cli(["switch", "new", bad, "--type", "private"])
                #expect(created.exitCode == 1 && created.error.contains("invalid"), "'\(bad)': \(created.error)")
            }
            let long = String(repeating: "n", count: 100_000)
            let refused = await daemon.cli(["vm", "create", long])
            #expect(refused.exitCode == 1 && refused.error.count < 400, "the error quotes a prefix, not 100 KB: \(refused.error.count) characters")

            // An encoded slash stays inside one path segment: never another resource.
            let slash = try RawConnection(unixPath: daemon.socket)
            slash.send("GET /v1/switches/..%2F..%2Fvms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = slash.readUntilClosed(within: .seconds(10)) ?? ""
            #expect(answer.hasPrefix("HTTP/1.1 400") || answer.hasPrefix("HTTP/1.1 404"), "\(answer.prefix(200))")

            try await daemon.createTestVM("text1")
            let nul = await daemon.cli(["vm", "set", "text1", "--notes", "before\u{1}after"])
            #expect(nul.exitCode == 1 && nul.error.contains("control character"), "\(nul.error)")
            let tooLong = await daemon.cli(["switch", "new", "notes1", "--type", "private", "--notes", String(repeating: "x", count: 5000)])
            #expect(tooLong.exitCode == 1 && tooLong.error.contains("4096"), "switch notes have the VM notes' limit: \(tooLong.error)")
            #expect(await daemon.cli(["vm", "set", "text1", "--notes", "line one\nline two\ttab"]).exitCode == 0)
            #expect(try await daemon.json(VMInfo.self, ["vm", "show", "text1"]).notes == "line one\nline two\ttab")

            let pem = "\(daemon.stateDirectory)/bad.pem"
            try "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n".write(toFile: pem, atomically: true, encoding: .utf8)
            let peer = await daemon.cli(["host", "peer", "add", "p1", "--address", "192.0.2.1:7600", "--certificate", pem])
            #expect(peer.exitCode == 1 && peer.error.contains("not a PEM certificate") && !peer.error.contains("ASN1") && !peer.error.contains(".swift"),
                    "\(peer.error)")
            let agent = try RawConnection(unixPath: daemon.socket)
            agent.send("POST /v1/images/test-guest?agent=bogus HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            let agentAnswer = agent.readUntilClosed(within: .seconds(10)) ?? ""
            #expect(agentAnswer.hasPrefix("HTTP/1.1 400") && agentAnswer.contains("viridian or qemu-guest-agent"), "\(agentAnswer.prefix(300))")
        }
    }

    @Test("the migration listener: an idle connection is closed; malformed HTTP from a trusted peer over TLS gets 400 and the connection closes")
    func migrationListener() async throws {
        try await TestHosts.with(count: 2, arguments: ["--connection-idle-timeout", "2"]) { hosts in
            let listener = try #require(try await hosts[1].client.host().migrationListener)
            let port = try #require(Int(listener.split(separator: ":").last ?? ""), "\(listener)")
            let idle = try RawConnection(host: "127.0.0.1", port: port)
            #expect(idle.readUntilClosed(within: .seconds(15)) != nil, "a connection that never starts TLS is closed")

            let tls = "\(hosts[0].stateDirectory)/tls"
            for (what, request) in [("a garbage request line", "GARBAGE\r\n\r\n"),
                                    ("a negative Content-Length", "POST /peer/v1/incoming HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")] {
                let answer = try await HostCommand.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet",
                                                                           "-cert", "\(tls)/host.pem", "-key", "\(tls)/host.key"],
                                                       input: request, timeout: .seconds(30))
                #expect(answer.standardOutput.hasPrefix("HTTP/1.1 400"), "\(what): \(answer.standardOutput.prefix(200)) \(answer.standardError.suffix(300))")
            }
            let halfHeader = try await HostCommand.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet",
                                                                           "-cert", "\(tls)/host.pem", "-key", "\(tls)/host.key"],
                                                       input: "GET /peer/v1/host HTTP/1.1\r\nHost: x\r\n", timeout: .seconds(30))
            // Left open, s_client would run into its 30 s limit and the call would throw.
            #expect(!halfHeader.standardOutput.contains("HTTP/1.1 200"), "half a request gets no answer, and is closed: \(halfHeader.standardOutput.prefix(200))")
        }
    }
}
