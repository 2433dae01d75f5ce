import AgentProtocol
import APITypes
import AsyncAlgorithms
import Foundation
import QMP

extension IntegrationHub {
    /// Runs a program in the guest, streaming its output to `output` and `input` to it. `input` is
    /// taken one item at a time as the guest's port accepts it, so a slow reader in the guest slows
    /// the sender (nothing is dropped, nothing piles up). Returns its exit code. Cancelling the task
    /// hangs the program up (SIGHUP).
    public func exec(_ command: SessionCommand, input: AsyncChannel<SessionInput>, output: SessionOutput) async throws -> Int32 {
        guard !command.arguments.isEmpty, command.arguments.count <= 4096,
              command.arguments.reduce(0, { $0 + $1.utf8.count }) <= 128 * 1024 else {
            throw ViridianError(.invalidArgument, "a guest command needs a program name and at most 128 KiB of arguments")
        }
        await waitUntilAnswering(.session)
        if isNegotiated(.session) {
            return try await execViridian(command, input: input, output: output)
        }
        try requireFallback(.session)
        guard !command.terminal else {
            throw ViridianError(.notResponding, "qemu-guest-agent cannot give a terminal; install viridian-guest for vm shell")
        }
        return try await execFallback(command, input: input, output: output)
    }

    private func execViridian(_ command: SessionCommand, input: AsyncChannel<SessionInput>,
                              output: SessionOutput) async throws -> Int32 {
        let request = try connection(.session).openRequest()
        defer { request.close() }
        try await request.send(ExecRequest(arguments: command.arguments, terminal: command.terminal, columns: command.columns,
                                           rows: command.rows, environment: command.environment, inputCredit: true))
        let started = try await request.reply(ExecStarted.self, timeout: .seconds(15))
        guard started.pid != nil else {
            throw ViridianError(.invalidArgument, "the guest could not start \(command.arguments[0].prefix(100)): \(started.error ?? "unknown error")")
        }
        // Agents before input credit take input as the port brings it (and their port waits for the program).
        let window = started.inputWindow.flatMap { $0 > 0 ? $0 : nil }
        let credit = window.map(SessionInputCredit.init(window:))
        let piece = min(64 * 1024, window ?? .max)
        let feeder = Task {
            // A send fails only when the session is gone; the frames loop below reports that.
            do {
                for await item in input {
                    switch item {
                    case .data(let bytes):
                        for start in stride(from: 0, to: bytes.count, by: piece) {
                            let end = min(start + piece, bytes.count)
                            try await credit?.take(end - start)
                            try await request.sendData(Array(bytes[start..<end]))
                        }
                    case .closeInput: try await request.send(CloseInput())
                    case .resize(let columns, let rows): try await request.send(ResizeTerminal(columns: columns, rows: rows))
                    case .signal(let signal): try await request.send(SignalProcess(signal: signal))
                    }
                }
            } catch {
                input.finish()
            }
        }
        defer {
            feeder.cancel()
            credit?.finish()
        }
        return try await withTaskCancellationHandler {
            for await frame in request.frames {
                switch frame.kind {
                case .stdout, .stderr:
                    await output(frame.kind, frame.payload)
                case .message:
                    // A malformed message ends the session with the protocol error, as a malformed reply does;
                    // a type this host does not know is skipped.
                    switch try MessageCodec.type(of: frame) {
                    case ProcessExited.type: return try MessageCodec.decode(ProcessExited.self, from: frame).exitCode
                    case InputCredit.type: credit?.grant(try MessageCodec.decode(InputCredit.self, from: frame).bytes)
                    default: continue
                    }
                case .data:
                    continue
                }
            }
            throw ViridianError(.notResponding, "the guest's session service went away before the program ended")
        } onCancel: {
            Task { try? await request.send(SignalProcess(signal: SIGHUP)) }
        }
    }

    private func execFallback(_ command: SessionCommand, input: AsyncChannel<SessionInput>,
                              output: SessionOutput) async throws -> Int32 {
        // guest-exec takes the whole input up front: collect it until the caller closes it.
        var stdin: [UInt8] = []
        for await item in input {
            if case .data(let bytes) = item { stdin += bytes }
            if case .closeInput = item { break }
            guard stdin.count <= 1 << 20 else {
                throw ViridianError(.invalidArgument, "qemu-guest-agent takes at most 1 MiB of input")
            }
        }
        let result = try await fallbackExec(command.arguments, input: stdin)
        await output(.stdout, result.stdout)
        await output(.stderr, result.stderr)
        return result.exitCode
    }

    /// Runs a program through qemu-guest-agent and returns its exit code (output discarded).
    func fallbackRun(_ arguments: [String]) async throws -> Int32 {
        try await fallbackExec(arguments, input: []).exitCode
    }

    private func fallbackExec(_ arguments: [String], input: [UInt8]) async throws
        -> (exitCode: Int32, stdout: [UInt8], stderr: [UInt8]) {
        var request: [String: JSONValue] = [
            "path": .string(arguments[0]), "arg": .array(arguments.dropFirst().map { .string($0) }),
            "capture-output": .bool(true),
        ]
        if !input.isEmpty { request["input-data"] = .string(Data(input).base64EncodedString()) }
        let started = try await fallback.execute("guest-exec", request)
        guard let pid = started["pid"] else { throw ViridianError(.engineFailure, "qemu-guest-agent started no process") }
        while true {
            try Task.checkCancellation()
            let status = try await fallback.execute("guest-exec-status", ["pid": pid])
            if status["exited"]?.boolValue == true {
                func decode(_ key: String) -> [UInt8] {
                    Array(status[key]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data())
                }
                let code = status["exitcode"]?.intValue ?? status["signal"]?.intValue.map { 128 + $0 } ?? 255
                return (Int32(clamping: code), decode("out-data"), decode("err-data"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
