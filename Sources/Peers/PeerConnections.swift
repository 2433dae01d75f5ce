import APITypes
import AsyncHTTPClient
import NIOPosix
import NIOSSL
import Synchronization

/// One HTTPS client per peer, kept for the daemon's life: a move's calls (hello, prepare,
/// keepalives, commit) share its pooled mutual-TLS connections instead of a handshake each.
/// A peer trusted again with another CA gets a new client; removing a peer closes its client.
package final class PeerConnections: Sendable {
    private struct Entry {
        let fingerprint: String
        let client: HTTPClient
    }

    private let identity: HostIdentity
    private let entries = Mutex<(clients: [String: Entry], closed: Bool)>(([:], false))

    package init(identity: HostIdentity) {
        self.identity = identity
    }

    /// The client for `peer`, made on first use.
    /// - Throws: when the certificates cannot be loaded, or the daemon is stopping.
    package func client(for peer: PeerRegistry.Peer) throws -> HTTPClient {
        let key = peer.record.name.lowercased()
        let fingerprint = peer.authority.fingerprint
        let known = try entries.withLock { state -> HTTPClient? in
            guard !state.closed else { throw ViridianError(.invalidState, "viridiand is stopping") }
            return state.clients[key].flatMap { $0.fingerprint == fingerprint ? $0.client : nil }
        }
        if let known { return known }
        let made = try Self.makeClient(identity: identity, peer: peer)
        let (client, idle) = entries.withLock { state -> (HTTPClient, HTTPClient?) in
            if let raced = state.clients[key], raced.fingerprint == fingerprint { return (raced.client, made) }
            let replaced = state.clients[key]?.client
            state.clients[key] = Entry(fingerprint: fingerprint, client: made)
            return (made, replaced)
        }
        if let idle { Self.close(idle) }
        return client
    }

    /// Closes the client of a peer that is no longer trusted.
    package func forget(_ name: String) {
        if let entry = entries.withLock({ $0.clients.removeValue(forKey: name.lowercased()) }) { Self.close(entry.client) }
    }

    /// Closes every client (daemon shutdown); later calls are refused.
    package func shutDown() async {
        let clients = entries.withLock { state in
            state.closed = true
            defer { state.clients = [:] }
            return state.clients.values.map(\.client)
        }
        for client in clients {
            // A client that fails to close holds only sockets the process is about to give back.
            try? await client.shutdown()
        }
    }

    /// Closes a client nobody uses any more, in the background (its requests have finished or failed).
    private static func close(_ client: HTTPClient) {
        Task { try? await client.shutdown() }
    }

    private static func makeClient(identity: HostIdentity, peer: PeerRegistry.Peer) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(identity.certificatePEM.utf8), format: .pem))]
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem))
            tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(peer.authority.pem.utf8), format: .pem)])
        } catch {
            throw ViridianError(.internalError, "cannot load the certificates for peer '\(peer.record.name)'", cause: error)
        }
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv13
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // Each request has its own deadline (`PeerClient`); only connecting has a fixed limit.
        configuration.timeout = .init(connect: .seconds(5))
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }
}
