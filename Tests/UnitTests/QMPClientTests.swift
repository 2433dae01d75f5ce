import Engine
import Foundation
import HostTools
import Logging
import QMP
import Testing

/// The QMP client against a real QEMU (`-M none`, no guest), over a real unix socket.
@Suite("QMP client on real QEMU", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                            "needs qemu-system-x86 (apt-get install qemu-system-x86)"))
struct QMPClientTests {
    @Test("negotiates, runs commands, reports QEMU's errors, sees events, and fails pending work when QEMU exits")
    func roundTrip() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qmp-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = "\(directory)/qmp.sock"
        try await HostCommand.check("/usr/bin/qemu-system-x86_64", [
            "-M", "none", "-nodefaults", "-display", "none", "-daemonize", "-pidfile", "\(directory)/pid",
            "-chardev", "socket,id=qmp,path=\(socket),server=on,wait=off", "-mon", "chardev=qmp,mode=control",
        ], purpose: "starting QEMU")
        let client = try await QMPClient.connect(socketPath: socket, logger: Logger(label: "test"))
        #expect(client.version["qemu"]?["major"]?.intValue ?? 0 >= 7)

        let status = try await client.queryStatus()
        #expect(status.running)
        let events = client.events()
        try await client.stop()
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next()?.name == "STOP")
        #expect(try await client.queryStatus().running == false)

        await #expect {
            try await client.execute("no-such-command")
        } throws: { error in
            guard case QMPError.commandFailed(let command, let errorClass, _) = error else { return false }
            return command == "no-such-command" && errorClass == "CommandNotFound"
        }

        // Many concurrent commands are each matched to their own reply.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { try await client.queryStatus().status == "paused" } }
            for try await matched in group { #expect(matched) }
        }

        try await client.quit()
        while await iterator.next() != nil {}
        #expect(client.isClosed)
        await #expect(throws: QMPError.disconnected) { try await client.queryStatus() }
    }

    @Test("connecting to a socket nobody serves fails with a clear error")
    func noServer() async {
        await #expect(throws: QMPError.self) {
            _ = try await QMPClient.connect(socketPath: "/nonexistent/qmp.sock", logger: Logger(label: "test"), timeout: .seconds(2))
        }
    }
}

/// What a reopen must repeat about a node, from what `query-named-block-nodes` shows (QEMU 10's output).
@Suite("Block node options")
struct BlockNodeOptionTests {
    @Test("an encrypted qcow2 node's LUKS secret is read from its json: file name; a plain node has none")
    func encryptOptions() throws {
        let encrypted = #"{"node-name": "drive0p1", "drv": "qcow2", "ro": true, "encrypted": true, "file": "json:{\"encrypt.key-secret\": \"shieldkey\", \"driver\": \"qcow2\", \"file\": {\"driver\": \"file\", \"filename\": \"/d/e.qcow2\"}}"}"#
        let node = try JSONDecoder().decode(JSONValue.self, from: Data(encrypted.utf8))
        #expect(QMPClient.encryptOptions(node) == .object(["format": .string("luks"), "key-secret": .string("shieldkey")]))
        #expect(QMPClient.openedFile(node) == "/d/e.qcow2")
        let plain = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"node-name": "drive0", "drv": "qcow2", "encrypted": false, "file": "/d/p.qcow2"}"#.utf8))
        #expect(QMPClient.encryptOptions(plain) == nil)
    }
}

/// What real QEMU writes and reports about machine types.
@Suite("Machine types on real QEMU", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                               "needs qemu-system-x86 (apt-get install qemu-system-x86)"))
struct MachineTypeQEMUTests {
    @Test("the worker reports its versioned type, and a saved state's header names it")
    func savedStateNamesMachine() async throws {
        let qemu = try await QEMUBinary.locate()
        let older = try #require(qemu.machineTypes.names.filter { $0.hasPrefix("pc-i440fx-") && !qemu.machineTypes.deprecated.contains($0) }
            .sorted().first, "QEMU lists versioned pc-i440fx types")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("machine-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = "\(directory)/qmp.sock"
        try await HostCommand.check(qemu.path, [
            "-M", older, "-accel", "tcg", "-m", "32", "-nodefaults", "-display", "none", "-S", "-daemonize",
            "-pidfile", "\(directory)/pid", "-chardev", "socket,id=qmp,path=\(socket),server=on,wait=off", "-mon", "chardev=qmp,mode=control",
        ], purpose: "starting QEMU")
        let client = try await QMPClient.connect(socketPath: socket, logger: Logger(label: "test"))
        defer { client.close() }
        #expect(try await client.machineType() == older)
        let state = "\(directory)/state"
        try await client.migrate(uri: "exec:cat > \(state)")
        try await eventuallyCompleted(client)
        #expect(try SavedStateHeader.machineType(ofFile: state) == older)
        try? await client.quit()
    }

    private func eventuallyCompleted(_ client: QMPClient) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let status = try await client.queryMigrate().status
            if status == "completed" { return }
            try #require(status != "failed", "writing the state failed")
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the state was not written within 30 s")
    }
}
