import AgentProtocol
import AsyncAlgorithms
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The host's connection to one integration service port of one VM (its chardev socket).
///
/// The guest is untrusted: frames are bounded by the decoder, negotiation is checked against what
/// the host speaks, unsolicited messages are rate-limited, and a violation ends the connection.
/// Requests run on numbered channels; their frames are delivered with backpressure, so a guest
/// sending faster than the host consumes is simply slowed down.
public final class AgentConnection: Sendable {
    /// Unsolicited messages a guest may send per second before it counts as a flood.
    public static let messageRateLimit = 200

    public let service: IntegrationService
    private let hostRelease: String
    private let logger: Logger
    private let channel: NIOAsyncChannel<Frame, ByteBuffer>
    private let writer = Mutex<NIOAsyncChannelOutboundWriter<ByteBuffer>?>(nil)
    private let state = Mutex(State())

    private struct State {
        var negotiated: Negotiated?
        var requests: [UInt32: AsyncChannel<Frame>] = [:]
        var nextRequest: UInt32 = 1
        var closed = false
    }

    private init(service: IntegrationService, hostRelease: String, logger: Logger,
                 channel: NIOAsyncChannel<Frame, ByteBuffer>) {
        self.service = service
        self.hostRelease = hostRelease
        self.logger = logger
        self.channel = channel
    }

    /// Bytes queued for the guest beyond which a sender waits, and below which it goes on.
    static let writeBufferHigh = 2 << 20
    static let writeBufferLow = 512 << 10

    /// Connects to the port's socket. Call `serve` next.
    public static func connect(socketPath: String, service: IntegrationService, hostRelease: String,
                               logger: Logger) async throws -> AgentConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // Frames in flight (file copy sends 1 MiB frames): the default 64 KiB high
            // mark would let only one wait at a time, and the guest would idle between frames.
            .channelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: writeBufferLow, high: writeBufferHigh))
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameByteDecoder()))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return AgentConnection(service: service, hostRelease: hostRelease, logger: logger, channel: channel)
    }

    /// The negotiation result, once the guest's agent said hello.
    public var negotiated: Negotiated? { state.withLock { $0.negotiated } }

    /// Reads until the connection closes. Asks the guest to (re)negotiate first.
    /// - Throws: `AgentProtocolError` when the guest breaks the protocol.
    public func serve(onNegotiated: @Sendable (Negotiated) -> Void,
                      onMessage: @Sendable (Frame) -> Void) async throws {
        defer { shutDown() }
        var windowStart = ContinuousClock.now
        var messagesInWindow = 0
        try await channel.executeThenClose { inbound, outbound in
            writer.withLock { $0 = outbound }
            try await outbound.write(ByteBuffer(bytes: MessageCodec.frame(HelloRequest()).encoded()))
            for try await frame in inbound {
                if frame.channel != 0, let request = state.withLock({ $0.requests[frame.channel] }) {
                    await request.send(frame)
                    continue
                }
                let now = ContinuousClock.now
                if now - windowStart > .seconds(1) {
                    windowStart = now
                    messagesInWindow = 0
                }
                messagesInWindow += 1
                guard messagesInWindow <= Self.messageRateLimit else {
                    throw AgentProtocolError.unexpectedMessage("more than \(Self.messageRateLimit) messages a second")
                }
                guard frame.kind == .message else { continue }
                if try MessageCodec.type(of: frame) == Hello.type {
                    let hello = try MessageCodec.decode(Hello.self, from: frame)
                    if let negotiated = try await negotiate(hello, outbound: outbound) { onNegotiated(negotiated) }
                } else if state.withLock({ $0.negotiated }) != nil {
                    onMessage(frame)
                }
            }
        }
    }

    private func negotiate(_ hello: Hello, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Negotiated? {
        let refusal: String?
        let framework = highestCommonVersion(FrameworkVersion.supported, Array(hello.frameworkVersions.prefix(16)))
        let version = highestCommonVersion(service.supportedVersions, Array(hello.serviceVersions.prefix(16)))
        if hello.service != service.rawValue {
            refusal = "this port is \(service.rawValue), not \(hello.service.prefix(64))"
        } else if framework == nil || version == nil {
            refusal = "no common version (host speaks framework \(FrameworkVersion.supported), service \(service.supportedVersions))"
        } else if Release(hello.release) == nil || hello.agent.isEmpty || hello.agent.utf8.count > 64 {
            refusal = "release '\(hello.release.prefix(40))' or agent name is not valid"
        } else {
            refusal = nil
        }
        if let refusal {
            logger.warning("integration negotiation refused", metadata: ["service": "\(service.rawValue)", "reason": "\(refusal)"])
            state.withLock { $0.negotiated = nil }
            try await outbound.write(ByteBuffer(bytes: MessageCodec.frame(Refused(reason: refusal)).encoded()))
            return nil
        }
        guard let framework, let version else { return nil }
        let negotiated = Negotiated(release: hello.release, agent: hello.agent, frameworkVersion: framework,
                                    serviceVersion: version)
        state.withLock { $0.negotiated = negotiated }
        try await outbound.write(ByteBuffer(bytes: MessageCodec.frame(
            Welcome(frameworkVersion: framework, serviceVersion: version, hostRelease: hostRelease)).encoded()))
        return negotiated
    }

    /// Sends a control message.
    public func send<Message: AgentMessage>(_ message: Message, channel: UInt32 = 0) async throws {
        try await send(MessageCodec.frame(message, channel: channel))
    }

    /// Sends a frame; waits while the guest is slow to read.
    public func send(_ frame: Frame) async throws {
        try await send(encoded: ByteBuffer(bytes: frame.encoded()))
    }

    /// Sends a frame already encoded into a buffer; waits while the guest is slow to read.
    func send(encoded frame: ByteBuffer) async throws {
        guard let writer = writer.withLock({ $0 }), !state.withLock({ $0.closed }) else {
            throw AgentConnectionError.disconnected(service)
        }
        try await writer.write(frame)
    }

    /// Opens a request channel: frames the guest sends on it arrive on the returned sequence.
    public func openRequest() throws -> AgentRequest {
        let inbox = AsyncChannel<Frame>()
        let id = try state.withLock { state -> UInt32 in
            guard !state.closed else { throw AgentConnectionError.disconnected(service) }
            defer { state.nextRequest = state.nextRequest == UInt32.max ? 1 : state.nextRequest + 1 }
            state.requests[state.nextRequest] = inbox
            return state.nextRequest
        }
        return AgentRequest(id: id, inbox: inbox, connection: self)
    }

    func closeRequest(_ id: UInt32) {
        state.withLock { $0.requests.removeValue(forKey: id) }?.finish()
    }

    /// Closes the connection; `serve` returns.
    public func close() {
        writer.withLock { $0?.finish() }
        shutDown()
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Closes a connection that was never served (its link stopped while it connected): the
    /// channel is closed through NIO's async wrapper, as `serve` would, never just dropped.
    public func discard() async {
        shutDown()
        do {
            try await channel.executeThenClose { _, outbound in outbound.finish() }
        } catch {
            logger.debug("closing an unused integration connection failed", metadata: ["error": "\(error)"])
        }
    }

    private func shutDown() {
        let requests = state.withLock { state in
            state.closed = true
            state.negotiated = nil
            defer { state.requests = [:] }
            return Array(state.requests.values)
        }
        for request in requests { request.finish() }
    }
}

/// A failure talking to a guest's agent.
public enum AgentConnectionError: Error, Sendable, CustomStringConvertible {
    case disconnected(IntegrationService)
    case timeout(IntegrationService, String)
    case refused(IntegrationService, String)

    public var description: String {
        switch self {
        case .disconnected(let service): "the guest's \(service.rawValue) service is not connected"
        case .timeout(let service, let what): "the guest's \(service.rawValue) service did not answer \(what) in time"
        case .refused(let service, let reason): "the guest's \(service.rawValue) service refused: \(reason)"
        }
    }
}
