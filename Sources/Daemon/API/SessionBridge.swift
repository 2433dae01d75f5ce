import AgentProtocol
import APITypes
import AsyncAlgorithms
import Foundation
import HostServices
import HummingbirdWebSocket
import IntegrationServices
import NIOCore

/// Joins a WebSocket client to a program in the guest (`viridian vm exec` / `vm shell`), using the
/// protocol of `SessionStart`. When the client goes away the program is hung up.
struct SessionBridge {
    /// Largest client message accepted (arguments, environment or an input chunk).
    static let maximumMessage = 1 << 20

    /// Runs one session; `hub` is asked for after the client's start message, so a refusal (the VM
    /// is not running, or shielded) reaches the client as the session's end, with its reason.
    func run(hub resolveHub: () async throws -> IntegrationHub, inbound: WebSocketInboundStream,
             outbound: WebSocketOutboundWriter) async throws {
        var messages = inbound.messages(maxSize: Self.maximumMessage).makeAsyncIterator()
        guard case .text(let text) = try await messages.next(),
              let start = try? WireJSON.decoder().decode(SessionStart.self, from: Data(text.utf8)) else {
            try await end(outbound, SessionEnd(exitCode: nil, error: ErrorResponse(
                ViridianError(.invalidArgument, "the first message must be a SessionStart")).error))
            return
        }
        let hub: IntegrationHub
        do {
            hub = try await resolveHub()
        } catch {
            try await end(outbound, SessionEnd(exitCode: nil, error: ErrorResponse(ViridianError.wrapping(error)).error))
            return
        }
        // Each client message waits until the guest took the one before: the WebSocket is read no
        // faster than the guest reads, so a fast sender is slowed down, never dropped.
        let input = AsyncChannel<SessionInput>()
        let command = SessionCommand(arguments: start.arguments, terminal: start.terminal, columns: start.columns,
                                     rows: start.rows, environment: start.environment)
        // The program runs in its own task; this one reads the client until it leaves.
        let execution = Task {
            let ending: SessionEnd
            do {
                let code = try await hub.exec(command, input: input) { kind, bytes in
                    var buffer = ByteBuffer()
                    buffer.writeInteger(kind == .stderr ? SessionStream.stderr.rawValue : SessionStream.stdout.rawValue)
                    buffer.writeBytes(bytes)
                    try? await outbound.write(.binary(buffer))
                }
                ending = SessionEnd(exitCode: code, error: nil)
            } catch {
                ending = SessionEnd(exitCode: nil, error: ErrorResponse(ViridianError.wrapping(error)).error)
            }
            input.finish()
            try? await end(outbound, ending)
        }
        while let message = try? await messages.next() {
            switch message {
            case .binary(let buffer):
                await input.send(.data(Array(buffer.readableBytesView)))
            case .text(let text):
                guard let control = try? WireJSON.decoder().decode(SessionControl.self, from: Data(text.utf8)) else { continue }
                if control.closeInput == true { await input.send(.closeInput) }
                if let columns = control.columns, let rows = control.rows { await input.send(.resize(columns: columns, rows: rows)) }
                if let signal = control.signal { await input.send(.signal(signal)) }
            }
        }
        input.finish()
        // The client left: hang the program up if it still runs.
        execution.cancel()
        await execution.value
    }

    private func end(_ outbound: WebSocketOutboundWriter, _ message: SessionEnd) async throws {
        let data = try WireJSON.encoder().encode(message)
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
        try await outbound.close(.normalClosure, reason: nil)
    }
}
