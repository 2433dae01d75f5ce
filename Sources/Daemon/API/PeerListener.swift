import APITypes
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Peers
import X509

/// The request context of the migration listener: it keeps the connection, so a handler can
/// read which peer's certificate opened it.
struct PeerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var requestDecoder: JSONDecoder { WireJSON.decoder() }
    var responseEncoder: JSONEncoder { WireJSON.encoder() }
    /// A VM's record and a UEFI variable store.
    var maxUploadSize: Int { 96 << 20 }

    /// The trusted peer whose host certificate opened this connection.
    func peer(in registry: PeerRegistry) async throws -> PeerRegistry.Peer {
        guard let presented = try await channel.nioSSL_peerCertificate().get(),
              let certificate = try? Certificate(derEncoded: presented.toDERBytes()),
              let peer = registry.peer(issuing: certificate) else {
            throw ViridianError(.notResponding, "this connection's certificate is not from a trusted peer")
        }
        return peer
    }
}

/// The migration listener (`--migration-listen ADDR:PORT`): HTTPS where both sides show a host
/// certificate, and only hosts whose CA is in the peer list get past the handshake.
public enum PeerListener {
    public static func build(host: ViridianHost, address: HostPort, logger: Logger) throws -> some ApplicationProtocol {
        let router = Router(context: PeerRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        PeerController(host: host).addRoutes(to: router.group("peer/v1"))
        let limits = host.configuration.listenerLimits
        let connections = ConnectionLimit(maximum: limits.peerConnections)
        let tls = try tlsConfiguration(host.peers)
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [RequestHeadSeen()],
                                               idleTimeout: .seconds(Int64(limits.idleTimeout.components.seconds)))
        let server = HTTPServerBuilder { responder in
            GuardedChannel(base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), configuration: tls),
                           limit: connections, firstRequestTimeout: limits.idleTimeout)
        }
        return Application(router: router, server: server,
                           configuration: .init(address: .hostname(address.host, port: address.port), serverName: "viridiand-migration",
                                                backlog: ListenerLimits.backlog),
                           logger: logger)
    }

    /// TLS 1.3 with this host's certificate; a client certificate is required and accepted only
    /// when a trusted peer's CA issued it (checked per connection, so a new peer needs no restart).
    private static func tlsConfiguration(_ peers: PeerRegistry) throws -> TLSChannelConfiguration {
        let identity = peers.identity
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(identity.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)))
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv13
        return TLSChannelConfiguration(tlsConfiguration: tls) { certificates in
            guard let leaf = certificates.first, let certificate = try? Certificate(derEncoded: leaf.toDERBytes()),
                  peers.peer(issuing: certificate) != nil else { return .failed }
            return .certificateVerified
        }
    }
}
