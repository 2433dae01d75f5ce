import APIClient
import APITypes
import ArgumentParser
import AsyncAlgorithms
import Foundation
import NIOCore
import NIOPosix

/// Runs a program in the guest over the session service: its output on ours, optionally our
/// standard input to it, and its exit code as the result.
struct GuestSession {
    let client: ViridianClient
    let vm: String

    /// Runs `start`; forwards standard input when `forwardInput` (until end of file), else closes it at once.
    func run(_ start: SessionStart, forwardInput: Bool, terminal: RawTerminal? = nil) async throws -> Int32 {
        let connection = try await SessionConnection.open(socketPath: client.socketPath, vm: vm)
        // Standard input is read one chunk at a time, each after the last was sent: a slow guest reader
        // slows the pipe into this command, and nothing piles up here.
        let input = AsyncChannel<SessionClientInput>()
        let reader = Task.detached {
            if forwardInput {
                let stdin = FileHandle.standardInput
                while !Task.isCancelled {
                    let data = stdin.availableData
                    if data.isEmpty { break }
                    await input.send(.data(ByteBuffer(bytes: data)))
                }
            }
            await input.send(.control(SessionControl(closeInput: true)))
        }
        let end = try await connection.run(start, input: input) { stream, bytes in
            let handle = stream == .stderr ? FileHandle.standardError : FileHandle.standardOutput
            handle.write(Data(bytes))
        }
        input.finish()
        reader.cancel()
        terminal?.restore()
        if let error = end.error { throw ViridianError(.init(wireName: error.code), error.message) }
        return end.exitCode ?? 255
    }

    /// The terminal's size, or 80×24.
    static func terminalSize() -> (columns: Int, rows: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return (80, 24) }
        return (Int(size.ws_col), Int(size.ws_row))
    }
}
