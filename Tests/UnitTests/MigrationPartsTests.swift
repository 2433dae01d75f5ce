import APITypes
@testable import Daemon
import Engine
import Foundation
import HostTools
@testable import HostServices
@testable import Migration
@testable import Peers
import Testing
import X509

@Suite("Migration building blocks")
struct MigrationPartsTests {
    @Test("networks: CIDR parsing, membership, and what is refused")
    func networks() throws {
        let network = try IPNetwork(parsing: "10.77.1.0/24")
        #expect(network.contains("10.77.1.200") && !network.contains("10.77.2.1") && !network.contains("fe80::1"))
        #expect(try IPNetwork(parsing: "10.77.1.9/24").contains("10.77.1.1"))
        #expect(try IPNetwork(parsing: "0.0.0.0/0").contains("192.0.2.1"))
        #expect(try IPNetwork(parsing: "fd00::/8").contains("fd12::1"))
        #expect(try IPNetwork(parsing: "192.0.2.0/25").contains("192.0.2.127") && !(try IPNetwork(parsing: "192.0.2.0/25").contains("192.0.2.128")))
        for bad in ["10.0.0.0", "10.0.0.0/33", "nonsense/8", "10.0.0.0/-1", "/24"] {
            #expect(throws: ViridianError.self) { try IPNetwork(parsing: bad) }
        }
        #expect(try IPNetwork(parsing: "10.77.1.0/24").description == "10.77.1.0/24")
    }

    @Test("addresses: HOST:PORT and [v6]:PORT; bad ones refused")
    func addresses() throws {
        #expect(try HostPort(parsing: "192.0.2.10:7600") == HostPort(host: "192.0.2.10", port: 7600))
        #expect(try HostPort(parsing: "[fd00::1]:7600") == HostPort(host: "fd00::1", port: 7600))
        #expect(HostPort(host: "fd00::1", port: 1).description == "[fd00::1]:1")
        for bad in ["nowhere", "host:0", "host:70000", ":80", "a b:80"] {
            #expect(throws: ViridianError.self) { try HostPort(parsing: bad) }
        }
        #expect(throws: ViridianError.self) { try HostName.validate("-leading") }
        #expect(throws: ViridianError.self) { try HostName.validate(String(repeating: "a", count: 64)) }
        try HostName.validate("hv1.example.org")
    }

    @Test("host identity: a CA and a host certificate it issued; peers check issuers; a new name re-issues, the CA stays")
    func identities() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let one = try HostIdentity.load(directory: "\(folder)/one", hostName: "hv1")
        let two = try HostIdentity.load(directory: "\(folder)/two", hostName: "hv2")
        let oneCA = try PeerAuthority(pem: one.authorityPEM)
        let twoCA = try PeerAuthority(pem: two.authorityPEM)
        let oneHost = try Certificate(pemEncoded: one.certificatePEM)
        #expect(oneCA.issued(oneHost) && !twoCA.issued(oneHost))
        #expect(oneCA.fingerprint.count == 64 && oneCA.fingerprint != twoCA.fingerprint)
        #expect(throws: ViridianError.self) { try PeerAuthority(pem: one.certificatePEM) }
        #expect(throws: ViridianError.self) { try PeerAuthority(pem: "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----") }
        let again = try HostIdentity.load(directory: "\(folder)/one", hostName: "hv1")
        #expect(again.certificatePEM == one.certificatePEM && again.authorityPEM == one.authorityPEM)
        let renamed = try HostIdentity.load(directory: "\(folder)/one", hostName: "hv1-new")
        #expect(renamed.authorityPEM == one.authorityPEM && renamed.certificatePEM != one.certificatePEM)
        #expect(oneCA.issued(try Certificate(pemEncoded: renamed.certificatePEM)))
    }

    @Test("a server's QEMU credentials folder holds the ffdhe2048 group (QEMU generates one at every load without it); a client's does not")
    func serverCredentialsCarryTheGroup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qemu-tls-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let identity = try HostIdentity.load(directory: "\(folder)/identity", hostName: "hv1")
        let peer = try PeerAuthority(pem: try HostIdentity.load(directory: "\(folder)/other", hostName: "hv2").authorityPEM)
        try QEMUTLSCredentials.write(identity: identity, peer: peer, endpoint: .server, to: "\(folder)/server")
        try QEMUTLSCredentials.write(identity: identity, peer: peer, endpoint: .client, to: "\(folder)/client")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/client/\(TLSDiffieHellmanGroup.fileName)"))
        let written = try String(contentsOfFile: "\(folder)/server/\(TLSDiffieHellmanGroup.fileName)", encoding: .utf8)
        #expect(written.hasPrefix("-----BEGIN DH PARAMETERS-----\n") && written.hasSuffix("-----END DH PARAMETERS-----\n"))
        guard FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64") else { return }
        // QEMU loads the folder as a server's credentials (a malformed group fails the object).
        // Run without blocking a cooperative thread: on two cores a blocked one stalls every other test.
        let qemu = try await HostCommand.run("/usr/bin/qemu-system-x86_64", [
            "-machine", "none", "-nodefaults", "-display", "none", "-S", "-qmp", "stdio",
            "-object", "tls-creds-x509,id=t,dir=\(folder)/server,endpoint=server,verify-peer=on",
        ], input: #"{"execute":"qmp_capabilities"}{"execute":"quit"}"#, timeout: .seconds(120))
        #expect(qemu.exitCode == 0, "QEMU refused the server credentials: \(qemu.standardError)")
    }

    @Test("slots: at most the limit at once, the rest in arrival order, a raised limit starts waiters")
    func slots() async throws {
        let limit = LimitBox(1)
        let slots = MigrationSlots { _ in limit.value }
        let order = OrderLog()
        let gate = AsyncStream<Void>.makeStream()
        let first = Task { try await slots.withSlot(.live) { await order.add(0); for await _ in gate.stream { break } } }
        try await Self.until("the first move holds the only live slot", await order.entries == [0])
        var waiting: [Task<Void, any Error>] = []
        for index in 1...3 {
            waiting.append(Task { try await slots.withSlot(.live) { await order.add(index) } })
            try await Self.until("move \(index) queues behind the earlier ones", await slots.waiting(in: .live) == index)
        }
        let storage = Task { try await slots.withSlot(.storage) { await order.add(9) } }
        try await storage.value
        #expect(await order.entries == [0, 9], "the storage pool is separate; live waits")
        waiting[1].cancel()
        try await Self.until("the cancelled move leaves the queue", await slots.waiting(in: .live) == 2)
        gate.continuation.yield()
        try await first.value
        try await waiting[0].value
        await #expect(throws: CancellationError.self) { try await waiting[1].value }
        try await waiting[2].value
        #expect(await order.entries == [0, 9, 1, 3])

        limit.value = 0
        let blocked = Task { try await slots.withSlot(.live) { await order.add(5) } }
        try await Self.until("a move queues while the limit is 0", await slots.waiting(in: .live) == 1)
        #expect(await order.entries.count == 4)
        limit.value = 2
        await slots.wake()
        try await blocked.value
        #expect(await order.entries.last == 5)
    }

    /// Waits until `condition` holds, failing with `what` when it has not within 30 s.
    private static func until(_ what: String, _ condition: @autoclosure () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while await !condition() {
            guard ContinuousClock.now < deadline else { throw ViridianError(.timeout, "\(what): not within 30 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

private final class LimitBox: @unchecked Sendable {
    var value: Int
    init(_ value: Int) { self.value = value }
}

private actor OrderLog {
    var entries: [Int] = []
    func add(_ value: Int) { entries.append(value) }
}
