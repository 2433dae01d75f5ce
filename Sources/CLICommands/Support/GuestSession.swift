import APIClient
import APITypes
import ArgumentParser
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
        let (input, feed) = AsyncStream<SessionClientInput>.makeStream()
        let reader: Task<Void, Never>?
        if forwardInput {
            reader = Task.detached {
                let stdin = FileHandle.standardInput
                while true {
                    let data = stdin.availableData
                    if data.isEmpty { break }
                    feed.yield(.data(ByteBuffer(bytes: data)))
                }
                feed.yield(.control(SessionControl(closeInput: true)))
            }
        } else {
            reader = nil
            feed.yield(.control(SessionControl(closeInput: true)))
        }
        let end = try await connection.run(start, input: input) { stream, bytes in
            let handle = stream == .stderr ? FileHandle.standardError : FileHandle.standardOutput
            handle.write(Data(bytes))
        }
        feed.finish()
        reader?.cancel()
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
