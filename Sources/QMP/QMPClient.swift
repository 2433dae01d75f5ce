import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A connection to one QEMU process's monitor (QMP over a unix socket).
///
/// Commands are matched to replies by id, so events may interleave freely; every command has a
/// timeout; when QEMU exits, pending commands fail with `QMPError.disconnected` and every event
/// stream finishes — which is how callers learn that the worker is gone.
public final class QMPClient: Sendable {
    /// The longest monitor line accepted.
    public static let maximumMessageLength = 8 << 20

    private struct State {
        var nextID: Int64 = 1
        /// Replies by command id: registered before the command is written, so a fast reply is never lost.
        var slots: [Int64: ReplySlot] = [0: .expected]
        var subscribers: [UUID: AsyncStream<QMPEvent>.Continuation] = [:]
        var closed = false
        var greeting: JSONValue?
    }

    private enum ReplySlot {
        case expected
        case waiting(CheckedContinuation<JSONValue, any Error>)
        case arrived(Result<JSONValue, any Error>)
    }

    private let state = Mutex(State())
    private let writer: Mutex<NIOAsyncChannelOutboundWriter<ByteBuffer>?> = Mutex(nil)
    private let reader: Mutex<Task<Void, Never>?> = Mutex(nil)
    package let logger: Logger
    /// The QEMU version from the greeting (`{"qemu": {"major": 7, …}}`).
    public var version: JSONValue { state.withLock { $0.greeting ?? .null } }

    private init(logger: Logger) {
        self.logger = logger
    }

    /// Connects to the monitor socket at `path`, reads the greeting and negotiates capabilities.
    /// With `handshake: false` it skips both: the QEMU guest agent speaks the same protocol without them.
    public static func connect(socketPath path: String, logger: Logger, timeout: Duration = .seconds(10),
                               handshake: Bool = true) async throws -> QMPClient {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(QMPLineDecoder(maximumLength: maximumMessageLength)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw QMPError.connectionFailed("\(path): \(error)")
        }
        let client = QMPClient(logger: logger)
        await client.startReading(channel)
        guard handshake else { return client }
        _ = try await client.awaitReply(id: 0, command: "greeting", timeout: timeout)
        _ = try await client.execute("qmp_capabilities", timeout: timeout)
        return client
    }

    /// Sends `command` with `arguments` and returns its `return` value.
    /// - Throws: `QMPError.commandFailed` with QEMU's description, `.timeout`, `.disconnected`.
    @discardableResult
    public func execute(_ command: String, arguments: [String: JSONValue]? = nil,
                        timeout: Duration = .seconds(30)) async throws -> JSONValue {
        let id = try state.withLock { state -> Int64 in
            guard !state.closed else { throw QMPError.disconnected }
            defer { state.nextID += 1 }
            state.slots[state.nextID] = .expected
            return state.nextID
        }
        var message: [String: JSONValue] = ["execute": .string(command), "id": .int(id)]
        if let arguments { message["arguments"] = .object(arguments) }
        var line = try JSONEncoder().encode(JSONValue.object(message))
        line.append(UInt8(ascii: "\n"))
        logger.trace("qmp command", metadata: ["command": "\(command)", "id": "\(id)"])
        do {
            guard let writer = writer.withLock({ $0 }) else { throw QMPError.disconnected }
            try await writer.write(ByteBuffer(bytes: line))
        } catch {
            fail(id: id, with: QMPError.disconnected)
        }
        return try await awaitReply(id: id, command: command, timeout: timeout)
    }

    /// A stream of every event from now on. It finishes when the monitor connection closes.
    public func events() -> AsyncStream<QMPEvent> {
        let (stream, continuation) = AsyncStream<QMPEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let key = UUID()
        let alreadyClosed = state.withLock { state -> Bool in
            if state.closed { return true }
            state.subscribers[key] = continuation
            return false
        }
        if alreadyClosed { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    /// Closes the connection; QEMU keeps running.
    public func close() {
        writer.withLock { $0?.finish() }
        reader.withLock { $0?.cancel() }
    }

    /// True once the monitor connection has closed.
    public var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: - Reading

    /// Starts the task that owns the channel and reads it until it closes; returns once writing is possible.
    private func startReading(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let (writers, writerReady) = AsyncStream<NIOAsyncChannelOutboundWriter<ByteBuffer>>.makeStream()
        let task = Task { [self] in
            do {
                try await channel.executeThenClose { inbound, outbound in
                    writerReady.yield(outbound)
                    writerReady.finish()
                    for try await buffer in inbound {
                        try handle(Data(buffer.readableBytesView))
                    }
                }
            } catch {
                logger.debug("qmp connection ended", metadata: ["error": "\(error)"])
            }
            writerReady.finish()
            shutDown()
        }
        reader.withLock { $0 = task }
        for await writer in writers {
            self.writer.withLock { $0 = writer }
        }
    }

    private func handle(_ line: Data) throws {
        switch try QMPMessage.parse(line) {
        case .greeting(let version):
            state.withLock { $0.greeting = version }
            resume(id: 0, with: .success(version))
        case .success(let id, let result):
            if let id { resume(id: id, with: .success(result)) }
        case .failure(let id, let errorClass, let description):
            if let id {
                let command = "command \(id)"
                resume(id: id, with: .failure(QMPError.commandFailed(command: command, errorClass: errorClass,
                                                                     description: description)))
            }
        case .event(let event):
            logger.debug("qmp event", metadata: ["event": "\(event.name)"])
            let subscribers = state.withLock { Array($0.subscribers.values) }
            for subscriber in subscribers { subscriber.yield(event) }
        }
    }

    private func awaitReply(id: Int64, command: String, timeout: Duration) async throws -> JSONValue {
        let result: JSONValue
        do {
            result = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                group.addTask { try await self.reply(id: id) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw QMPError.timeout(command: command)
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw QMPError.disconnected }
                return first
            }
        } catch QMPError.commandFailed(_, let errorClass, let description) {
            throw QMPError.commandFailed(command: command, errorClass: errorClass, description: description)
        }
        return result
    }

    private func reply(id: Int64) async throws -> JSONValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let early = state.withLock { state -> Result<JSONValue, any Error>? in
                    switch state.slots[id] {
                    case .arrived(let result):
                        state.slots[id] = nil
                        return result
                    case .expected:
                        state.slots[id] = .waiting(continuation)
                        return nil
                    case .waiting, nil:
                        return .failure(state.closed ? QMPError.disconnected : CancellationError())
                    }
                }
                if let early { continuation.resume(with: early) }
            }
        } onCancel: {
            fail(id: id, with: CancellationError())
        }
    }

    /// Delivers a reply: to the waiting caller, or into its slot until the caller comes.
    private func resume(id: Int64, with result: Result<JSONValue, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<JSONValue, any Error>? in
            switch state.slots[id] {
            case .waiting(let continuation):
                state.slots[id] = nil
                return continuation
            case .expected:
                state.slots[id] = .arrived(result)
                return nil
            case .arrived, nil:
                return nil
            }
        }
        continuation?.resume(with: result)
    }

    private func fail(id: Int64, with error: any Error) {
        resume(id: id, with: .failure(error))
    }

    private func shutDown() {
        let (pending, subscribers) = state.withLock { state in
            state.closed = true
            let waiting = state.slots.values.compactMap { slot -> CheckedContinuation<JSONValue, any Error>? in
                if case .waiting(let continuation) = slot { return continuation }
                return nil
            }
            for (id, slot) in state.slots {
                if case .expected = slot { state.slots[id] = .arrived(.failure(QMPError.disconnected)) }
            }
            state.slots = state.slots.filter { if case .waiting = $0.value { false } else { true } }
            defer { state.subscribers = [:] }
            return (waiting, Array(state.subscribers.values))
        }
        for continuation in pending { continuation.resume(throwing: QMPError.disconnected) }
        for subscriber in subscribers { subscriber.finish() }
    }
}
