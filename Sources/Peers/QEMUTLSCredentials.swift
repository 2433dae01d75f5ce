import APITypes
import Engine
import Foundation

/// Writes the folder QEMU's `tls-creds-x509` reads for a migration or NBD stream between this
/// host and one peer: `ca-cert.pem` holds both hosts' CAs (QEMU checks its own certificate
/// against it too), and this host's certificate and key under the endpoint's names; a server's
/// folder also holds the Diffie-Hellman group QEMU would otherwise generate at every load.
package enum QEMUTLSCredentials {
    package enum Endpoint: String {
        case server, client
    }

    package static func write(identity: HostIdentity, peer: PeerAuthority, endpoint: Endpoint, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let files: [(String, String, Int)] = [
                ("ca-cert.pem", identity.authorityPEM + "\n" + peer.pem, 0o644),
                ("\(endpoint.rawValue)-cert.pem", identity.certificatePEM, 0o644),
                ("\(endpoint.rawValue)-key.pem", identity.privateKeyPEM, 0o600),
            ]
            for (name, text, mode) in files {
                let path = "\(directory)/\(name)"
                try? FileManager.default.removeItem(atPath: path)
                guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
                    throw ViridianError(.internalError, "cannot write \(path)")
                }
            }
            if endpoint == .server { try TLSDiffieHellmanGroup.write(into: directory) }
        } catch let error as ViridianError {
            throw error
        } catch {
            throw ViridianError(.internalError, "cannot write TLS credentials to \(directory)", cause: error)
        }
    }
}
