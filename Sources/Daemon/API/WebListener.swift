import APITypes
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import Peers

/// The web listener (`--web-listen ADDR:PORT`): HTTPS serving the web console, the REST API (the
/// socket's routes but token management) for sessions and API tokens, `/metrics`, and the console
/// WebSockets. The certificate is the operator's (`--web-certificate`, `--web-key`) or this
/// host's own, issued by its CA (`viridian host certificate` shows the CA to trust).
public enum WebListener {
    public static func build(host: ViridianHost, address: HostPort, certificate: WebCertificate?, logger: Logger) throws -> some ApplicationProtocol {
        let web = WebServices(host: host)
        let router = router(host: host, web: web)
        let limits = host.configuration.listenerLimits
        let connections = ConnectionLimit(maximum: limits.apiConnections)
        let consoles = ConsoleBridge()
        let tls = try tlsConfiguration(certificate ?? WebCertificate(host.peers.identity))
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(additionalChannelHandlers: [RequestHeadSeen()],
                         idleTimeout: .seconds(Int64(limits.idleTimeout.components.seconds))),
            ws: .init(maxFrameSize: SessionBridge.maximumMessage, autoPing: .enabled(timePeriod: .seconds(30))))
        let gate = web.gate
        let server = HTTPServerBuilder { responder in
            GuardedChannel(base: try TLSChannel(HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration) {
                (request: HTTPRequest, channel: any Channel, _: Logger) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> in
                FirstRequestDeadline.end(on: channel)
                // Unauthenticated or cross-site upgrades fall through to the router, which refuses them.
                guard WebGate.originMatches(request), let identity = try gate.identify(request.headerFields) else { return .dontUpgrade }
                let decision = WebSocketSessions.upgrade(request, host: host, consoles: consoles, user: identity.user)
                if case .upgrade = decision { try await HTTPErrorHandling.leaveHTTP(channel) }
                return decision
            }, configuration: tls), limit: connections, firstRequestTimeout: limits.idleTimeout)
        }
        return Application(router: router, server: server,
                           configuration: .init(address: .hostname(address.host, port: address.port), serverName: "viridiand-web",
                                                backlog: ListenerLimits.backlog),
                           logger: logger)
    }

    /// Every route of the web listener behind its gate (router tests serve it without TLS).
    static func router(host: ViridianHost, web: WebServices) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let events = host.events
        router.add(middleware: WebAuthMiddleware(gate: web.gate, exposition: web.exposition) { vm, line, failed in
            events.record(failed ? .warning : .information, .vmms, vm: vm, line)
        })
        WebController(host: host, web: web).addRoutes(to: router)
        ApplicationBuilder.addFeatureRoutes(to: router, host: host, vms: host.vms)
        return router
    }

    private static func tlsConfiguration(_ certificate: WebCertificate) throws -> TLSChannelConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.chainPEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificate.keyPEM.utf8), format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            return TLSChannelConfiguration(tlsConfiguration: tls)
        } catch {
            throw ViridianError(.invalidArgument, "the web listener's certificate or key cannot be used", cause: error)
        }
    }
}

/// The web listener's certificate chain and key, PEM.
public struct WebCertificate: Sendable {
    public var chainPEM: String
    public var keyPEM: String

    /// The operator's files. - Throws: `invalidArgument` when one cannot be read.
    public init(certificateFile: String, keyFile: String) throws {
        do {
            chainPEM = try String(contentsOfFile: certificateFile, encoding: .utf8)
            keyPEM = try String(contentsOfFile: keyFile, encoding: .utf8)
        } catch {
            throw ViridianError(.invalidArgument, "cannot read the web certificate \(certificateFile) or its key \(keyFile)", cause: error)
        }
    }

    /// This host's certificate (issued by its CA) and key.
    init(_ identity: HostIdentity) {
        chainPEM = identity.certificatePEM + "\n" + identity.authorityPEM
        keyPEM = identity.privateKeyPEM
    }
}
