import AgentProtocol
import CGuestSystem
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's end of one service port: reads frames, negotiates, hands messages to the service,
/// and serialises writes. A port whose host side is not connected reads as end of file; the agent
/// waits and retries, and negotiates again whenever the host asks.
public final class GuestPort: Sendable {
    public let service: IntegrationService
    let devicePath: String
    private let fd: Int32
    private let writeLock = Mutex(())
    private let state = Mutex(State())

    private struct State {
        var negotiated: Welcome?
        var closed = false
    }

    init(service: IntegrationService, devicePath: String) throws(SystemError) {
        let fd = open(devicePath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(operation: "open \(devicePath)", code: errno) }
        self.service = service
        self.devicePath = devicePath
        self.fd = fd
    }

    /// The host's answer to our hello, once negotiation succeeded.
    public var welcome: Welcome? { state.withLock { $0.negotiated } }

    /// Sends a control message; false if the port is gone.
    @discardableResult
    public func send<Message: AgentMessage>(_ message: Message, channel: UInt32 = 0) -> Bool {
        send(MessageCodec.frame(message, channel: channel))
    }

    /// Sends a frame; false if the port is gone. Blocks while the host side is not connected.
    @discardableResult
    public func send(_ frame: Frame) -> Bool {
        guard !state.withLock({ $0.closed }) else { return false }
        return writeLock.withLock { _ in
            do {
                // Header and payload as two writes: no copy of the payload into one buffer.
                try FileDescriptor.writeAll(fd, frame.header.encoded())
                try FileDescriptor.writeAll(fd, frame.payload)
                return true
            } catch {
                return false
            }
        }
    }

    /// Sends a frame already encoded (header and payload in one buffer, as `BulkFrameBuffer` lays
    /// them out); false if the port is gone.
    @discardableResult
    func send(encodedFrame bytes: UnsafeRawBufferPointer) -> Bool {
        guard !state.withLock({ $0.closed }) else { return false }
        return writeLock.withLock { _ in
            do {
                try FileDescriptor.writeAll(fd, bytes)
                return true
            } catch {
                return false
            }
        }
    }

    /// Sends a bulk frame whose `header.length` payload bytes wait in `pipe`: moved into the port by
    /// `splice`, without a copy through the agent. False if the port is gone or the splice failed.
    func send(_ header: FrameHeader, splicingFrom pipe: Int32) -> Bool {
        guard !state.withLock({ $0.closed }) else { return false }
        return writeLock.withLock { _ in
            do {
                try FileDescriptor.writeAll(fd, header.encoded())
            } catch {
                return false
            }
            var remaining = header.length
            while remaining > 0 {
                let moved = viridian_splice(pipe, fd, UInt(remaining))
                if moved > 0 {
                    remaining -= moved
                } else if moved < 0 && errno == EINTR {
                    continue
                } else if moved < 0 && errno == EINVAL {
                    // A port driver without splice: the rest goes through a buffer.
                    return copy(remaining, from: pipe)
                } else {
                    return false
                }
            }
            return true
        }
    }

    /// Moves `count` bytes from `pipe` into the port through a buffer (the caller holds the write lock).
    /// False when either end fails: the frame is then cut short and the caller ends the transfer,
    /// as for any port that went away (there is no one to tell the reason to).
    private func copy(_ count: Int, from pipe: Int32) -> Bool {
        var remaining = count
        while remaining > 0 {
            do {
                let bytes = try FileDescriptor.read(pipe, count: min(remaining, 64 * 1024))
                guard !bytes.isEmpty else { return false }
                try FileDescriptor.writeAll(fd, bytes)
                remaining -= bytes.count
            } catch {
                return false
            }
        }
        return true
    }

    /// Reads and dispatches frames until the port disappears. Runs on the port's own thread.
    func serve(_ handler: any GuestServiceHandler) {
        sendHello()
        let reader = PortFrameReader(fd: fd)
        serving: while true {
            switch reader.next() {
            case .message(let frame):
                dispatch(frame, to: handler)
            case .bulk(let header, let bytes):
                if header.kind == .data && welcome != nil { handler.receive(bytes, channel: header.channel, on: self) }
            case .hostAway:
                // Host side not connected: the device reads as end of file until it comes back.
                guard FileManager.default.fileExists(atPath: devicePath) else { break serving }
                if state.withLock({ $0.negotiated }) != nil {
                    state.withLock { $0.negotiated = nil }
                    handler.hostDisconnected(self)
                }
                usleep(200_000)
            case .invalid:
                // The host sent something unreadable: renegotiate.
                sendHello()
            case .failed:
                break serving
            }
        }
        state.withLock { $0.closed = true; $0.negotiated = nil }
        handler.hostDisconnected(self)
        close(fd)
    }

    private func dispatch(_ frame: Frame, to handler: any GuestServiceHandler) {
        switch try? MessageCodec.type(of: frame) {
        case HelloRequest.type:
            state.withLock { $0.negotiated = nil }
            sendHello()
        case Welcome.type:
            guard let welcome = try? MessageCodec.decode(Welcome.self, from: frame) else { return }
            state.withLock { $0.negotiated = welcome }
            handler.negotiated(welcome, on: self)
        case Refused.type:
            state.withLock { $0.negotiated = nil }
        default:
            if welcome != nil { handler.handle(frame, on: self) }
        }
    }

    private func sendHello() {
        send(Hello(frameworkVersions: FrameworkVersion.supported, service: service.rawValue,
                   serviceVersions: service.supportedVersions, release: AgentRelease.current,
                   agent: AgentRelease.agentName))
    }
}
