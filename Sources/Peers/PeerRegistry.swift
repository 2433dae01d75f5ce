import APITypes
import Foundation
import Inventory
import Synchronization
import X509

/// The hosts this host trusts: a name, a migration listener address and a CA certificate each.
/// Only a host whose certificate one of these CAs issued may talk to the migration listener,
/// and this host talks only to listeners that prove the same.
package final class PeerRegistry: Sendable {
    package struct Peer: Sendable {
        package let record: PeerRecord
        package let authority: PeerAuthority
        package var endpoint: HostPort { (try? HostPort(parsing: record.address)) ?? HostPort(host: record.address, port: 0) }
    }

    private let inventory: Inventory
    package let identity: HostIdentity
    private let peers: Mutex<[Peer]>
    /// The clients calls to peers share.
    package let connections: PeerConnections

    package init(inventory: Inventory, identity: HostIdentity) throws {
        self.inventory = inventory
        self.identity = identity
        connections = PeerConnections(identity: identity)
        peers = Mutex(try inventory.peers().compactMap { record in
            (try? PeerAuthority(pem: record.certificate)).map { Peer(record: record, authority: $0) }
        })
    }

    /// Trusts a peer (`viridian host peer add`).
    package func add(_ request: AddPeerRequest) throws -> PeerInfo {
        try HostName.validate(request.name, what: "peer name")
        _ = try HostPort(parsing: request.address)
        let authority = try PeerAuthority(pem: request.certificate)
        guard authority.certificate != identity.authority else {
            throw ViridianError(.invalidArgument, "that is this host's own certificate; give the certificate that 'viridian host certificate' prints on the peer")
        }
        if let existing = all().first(where: { $0.authority.certificate == authority.certificate }) {
            throw ViridianError(.alreadyExists, "that certificate is already trusted as peer '\(existing.record.name)'")
        }
        let record = PeerRecord(name: request.name, address: request.address, certificate: authority.pem, addedAt: Date())
        try inventory.insert(record)
        let peer = Peer(record: record, authority: authority)
        peers.withLock { $0.append(peer) }
        return Self.info(peer)
    }

    /// Stops trusting a peer.
    package func remove(_ name: String) throws {
        guard try inventory.deletePeer(name: name) else { throw Self.unknown(name) }
        peers.withLock { $0.removeAll { $0.record.name.lowercased() == name.lowercased() } }
        connections.forget(name)
    }

    /// A client for calls to `peer` over its shared connections.
    package func client(_ peer: Peer) throws -> PeerClient {
        PeerClient(peer: peer, client: try connections.client(for: peer))
    }

    package func all() -> [Peer] { peers.withLock { $0 } }

    /// The peer named `name`. - Throws: `notFound` naming the command that adds one.
    package func peer(_ name: String) throws -> Peer {
        guard let peer = all().first(where: { $0.record.name.lowercased() == name.lowercased() }) else { throw Self.unknown(name) }
        return peer
    }

    /// The peer whose CA issued `certificate` (a host certificate presented on the listener), if any.
    package func peer(issuing certificate: Certificate) -> Peer? {
        all().first { $0.authority.issued(certificate) }
    }

    package static func info(_ peer: Peer) -> PeerInfo {
        PeerInfo(name: peer.record.name, address: peer.record.address, certificateSubject: peer.authority.subject,
                 fingerprint: peer.authority.fingerprint, addedAt: peer.record.addedAt)
    }

    private static func unknown(_ name: String) -> ViridianError {
        ViridianError(.notFound, "no peer named '\(name)' (see: viridian host peer list; add one with: viridian host peer add NAME --address ADDR:PORT --certificate FILE)")
    }
}
