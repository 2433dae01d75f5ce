import AgentProtocol
import Dispatch
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Direct sessions: runs programs for the host (on pipes, or on a pty for shells), streams their
/// output, feeds their input, and reports the exit code once all output has been sent.
final class SessionHandler: GuestServiceHandler {
    /// Most programs running at once for the host.
    static let maximumSessions = 16

    private struct Session {
        var process: LaunchedProcess
        /// Set when the host sends within credit; else input is written as the port brings it.
        var input: SessionInput?
        var inputOpen = true
    }

    private let sessions = Mutex<[UInt32: Session]>([:])

    func receive(_ bytes: UnsafeRawBufferPointer, channel: UInt32, on port: GuestPort) {
        guard let session = sessions.withLock({ $0[channel] }), session.inputOpen else { return }
        if let input = session.input {
            input.append(bytes)
            return
        }
        // A host before input credit: the port waits for the program, as it always did with such hosts.
        do {
            try FileDescriptor.writeAll(session.process.input, bytes)
        } catch {
            // The program closed its input (EPIPE): this piece, like any after it, is dropped, as a shell
            // pipe would; the input stays open until the host closes it, so it is closed once.
        }
    }

    func handle(_ frame: Frame, on port: GuestPort) {
        let channel = frame.channel
        switch try? MessageCodec.type(of: frame) {
        case ExecRequest.type:
            guard let request = try? MessageCodec.decode(ExecRequest.self, from: frame) else { return }
            start(request, channel: channel, port: port)
        case CloseInput.type:
            closeInput(channel: channel)
        case ResizeTerminal.type:
            guard let resize = try? MessageCodec.decode(ResizeTerminal.self, from: frame),
                  let session = sessions.withLock({ $0[channel] }), session.process.error == nil else { return }
            Pseudoterminal.resize(session.process.output, columns: resize.columns, rows: resize.rows)
        case SignalProcess.type:
            guard let request = try? MessageCodec.decode(SignalProcess.self, from: frame),
                  let session = sessions.withLock({ $0[channel] }) else { return }
            kill(-session.process.pid, request.signal)
        default:
            return
        }
    }

    /// Nobody is left to read the output: hang up every session.
    func hostDisconnected(_ port: GuestPort) {
        for session in sessions.withLock({ Array($0.values) }) { kill(-session.process.pid, SIGHUP) }
    }

    private func start(_ request: ExecRequest, channel: UInt32, port: GuestPort) {
        let tooMany = sessions.withLock { $0.count >= Self.maximumSessions || $0[channel] != nil }
        guard !tooMany else {
            port.send(ExecStarted(pid: nil, error: "too many sessions (at most \(Self.maximumSessions))"), channel: channel)
            return
        }
        let process: LaunchedProcess
        do {
            process = try ProcessLauncher.launch(request.arguments, terminal: request.terminal, columns: request.columns,
                                                 rows: request.rows, environment: request.environment)
        } catch {
            port.send(ExecStarted(pid: nil, error: error.description), channel: channel)
            return
        }
        let input = request.inputCredit == true
            ? SessionInput(fd: process.input, closesAtEnd: process.error != nil, channel: channel, port: port) : nil
        sessions.withLock { $0[channel] = Session(process: process, input: input) }
        port.send(ExecStarted(pid: process.pid, error: nil, inputWindow: input == nil ? nil : SessionInput.window), channel: channel)

        let pumps = DispatchGroup()
        pump(process.output, as: .stdout, channel: channel, port: port, group: pumps)
        if let error = process.error { pump(error, as: .stderr, channel: channel, port: port, group: pumps) }
        startThread("session-wait") { [self] in
            let code = ProcessLauncher.waitExitCode(process.pid)
            // A pty stays readable while background children hold it: do not wait for them forever.
            _ = pumps.wait(timeout: .now() + (process.error == nil ? 2 : 30))
            closeInput(channel: channel)
            if process.error == nil { kill(-process.pid, SIGHUP) }
            sessions.withLock { _ = $0.removeValue(forKey: channel) }
            port.send(ProcessExited(exitCode: code), channel: channel)
        }
    }

    private func pump(_ fd: Int32, as kind: FrameKind, channel: UInt32, port: GuestPort, group: DispatchGroup) {
        group.enter()
        startThread("session-output") {
            defer {
                close(fd)
                group.leave()
            }
            let buffer = BulkFrameBuffer(capacity: 64 * 1024)
            while let count = try? buffer.fill(from: fd), count > 0 {
                guard port.send(encodedFrame: buffer.frame(kind: kind, channel: channel, count: count)) else { return }
            }
        }
    }

    private func closeInput(channel: UInt32) {
        let closing = sessions.withLock { sessions -> Session? in
            guard var session = sessions[channel], session.inputOpen else { return nil }
            session.inputOpen = false
            sessions[channel] = session
            return session
        }
        guard let closing else { return }
        if let input = closing.input {
            input.end()
        } else if closing.process.error != nil {
            // With a terminal, input and output share the master; the output pump closes it.
            close(closing.process.input)
        }
    }
}
