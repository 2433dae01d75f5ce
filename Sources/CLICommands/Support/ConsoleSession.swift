import APIClient
import APITypes
import Foundation
import NIOCore
import NIOPosix

/// An interactive console: the terminal in raw mode, keys to the guest, output to the screen,
/// Ctrl-] to detach.
struct ConsoleSession {
    static let detachKey: UInt8 = 0x1D

    let client: ViridianClient
    let vm: String

    func run() async throws {
        let connection = try await ConsoleConnection.open(socketPath: client.socketPath, vm: vm)
        let terminal = RawTerminal()
        if terminal.isActive {
            FileHandle.standardError.write(Data("Connected to VM '\(vm)'. Press Ctrl-] to detach.\r\n".utf8))
        }
        defer { terminal.restore() }
        let input = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .takingOwnershipOfDescriptor(input: dup(STDIN_FILENO)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                }
            }
        let reason = try await input.executeThenClose { inbound, _ in
            try await connection.run(input: DetachingInput(base: inbound, detachKey: Self.detachKey)) { buffer in
                FileHandle.standardOutput.write(Data(buffer.readableBytesView))
                return true
            }
        }
        terminal.restore()
        if let reason, !reason.isEmpty { FileHandle.standardError.write(Data("\n\(reason)\n".utf8)) }
    }
}

/// Standard input up to (not including) the detach key.
struct DetachingInput<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let detachKey: UInt8

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let detachKey: UInt8
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            guard !done, var buffer = try await base.next() else { return nil }
            if let index = buffer.readableBytesView.firstIndex(of: detachKey) {
                done = true
                let length = index - buffer.readerIndex
                return length > 0 ? buffer.readSlice(length: length) : nil
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), detachKey: detachKey) }
}

/// Puts a terminal on standard input into raw mode, and back.
final class RawTerminal {
    private var original = termios()
    private(set) var isActive = false

    init() {
        guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &original) == 0 else { return }
        var raw = original
        cfmakeraw(&raw)
        isActive = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0
    }

    func restore() {
        guard isActive else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &original)
        isActive = false
    }
}
