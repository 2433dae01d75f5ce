import AgentProtocol
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One program's standard input when the host sends within credit: bytes from the host wait here
/// and a thread of their own writes them to the program, so the port reader, which serves every
/// session, never waits on a program that does not read. Every piece written (or dropped because
/// the program closed its input) is granted back to the host as `InputCredit`, which keeps at most
/// `window` bytes here.
final class SessionInput: Sendable {
    /// Bytes the host may send before the first grant.
    static let window = 1 << 20
    /// Bytes written before they are granted back (sooner when nothing more waits).
    static let grantStep = 256 << 10

    private enum Item: Sendable {
        case bytes([UInt8])
        case end
    }

    private let items = Mutex<[Item]>([])
    private let ready = DispatchSemaphore(value: 0)

    /// Starts the writer for `fd`; `closesAtEnd` is false for a terminal, whose output side closes it.
    init(fd: Int32, closesAtEnd: Bool, channel: UInt32, port: GuestPort) {
        startThread("session-input") { [self] in
            write(to: fd, closesAtEnd: closesAtEnd, channel: channel, port: port)
        }
    }

    /// Queues bytes the host sent (it keeps within the granted credit).
    func append(_ bytes: UnsafeRawBufferPointer) {
        items.withLock { $0.append(.bytes(Array(bytes))) }
        ready.signal()
    }

    /// No more input: the writer closes the program's input after what is queued.
    func end() {
        items.withLock { $0.append(.end) }
        ready.signal()
    }

    private func write(to fd: Int32, closesAtEnd: Bool, channel: UInt32, port: GuestPort) {
        var ungranted = 0
        var programTakesInput = true
        while true {
            ready.wait()
            let (item, moreWaiting) = items.withLock { items in (items.removeFirst(), !items.isEmpty) }
            switch item {
            case .bytes(let bytes):
                if programTakesInput {
                    do {
                        try FileDescriptor.writeAll(fd, bytes)
                    } catch {
                        // The program closed its input (EPIPE): the rest is dropped, as a shell pipe would.
                        programTakesInput = false
                    }
                }
                ungranted += bytes.count
                if ungranted >= Self.grantStep || !moreWaiting {
                    guard port.send(InputCredit(bytes: ungranted), channel: channel) else { return }
                    ungranted = 0
                }
            case .end:
                if closesAtEnd { close(fd) }
                return
            }
        }
    }
}
