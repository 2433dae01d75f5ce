import APITypes
import Crypto
import Foundation
import X509

/// This host's identity among peers: a certificate authority of its own, and a host
/// certificate it issues to itself for its host name. Both are made on first start and kept
/// in `<state>/tls`; the CA certificate is what administrators exchange
/// (`viridian host certificate`, `viridian host peer add … --certificate FILE`).
package struct HostIdentity: Sendable {
    package let hostName: String
    /// This host's CA certificate, PEM: what peers trust.
    package let authorityPEM: String
    /// The host certificate (issued by the CA for `hostName`), PEM.
    package let certificatePEM: String
    /// The host certificate's private key, PEM (PKCS #8).
    package let privateKeyPEM: String
    package let authority: Certificate

    /// Loads the identity from `directory`, creating the CA and host certificate when missing,
    /// and re-issuing the host certificate when the host name changed.
    package static func load(directory: String, hostName: String) throws -> HostIdentity {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let files = Files(directory: directory)
            let (authority, authorityKey) = try loadOrCreateAuthority(files, hostName: hostName)
            var certificate = try? Certificate(pemEncoded: String(contentsOfFile: files.certificate, encoding: .utf8))
            var keyPEM = try? String(contentsOfFile: files.key, encoding: .utf8)
            if certificate.map({ !Self.names(hostName, $0) || $0.issuer != authority.subject }) ?? true || keyPEM == nil {
                let key = P256.Signing.PrivateKey()
                certificate = try issueHostCertificate(hostName: hostName, publicKey: key.publicKey,
                                                       authority: authority, authorityKey: authorityKey)
                keyPEM = key.pemRepresentation
                try write(keyPEM ?? "", to: files.key, mode: 0o600)
                try write(try certificate?.serializeAsPEM().pemString ?? "", to: files.certificate, mode: 0o644)
            }
            guard let certificate, let keyPEM else {
                throw ViridianError(.internalError, "the host certificate could not be made")
            }
            return HostIdentity(hostName: hostName, authorityPEM: try authority.serializeAsPEM().pemString,
                                certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: keyPEM,
                                authority: authority)
        } catch let error as ViridianError {
            throw error
        } catch {
            throw ViridianError(.internalError, "cannot load or create this host's certificates in \(directory)", cause: error)
        }
    }

    private struct Files {
        let directory: String
        var authority: String { "\(directory)/ca.pem" }
        var authorityKey: String { "\(directory)/ca.key" }
        var certificate: String { "\(directory)/host.pem" }
        var key: String { "\(directory)/host.key" }
    }

    private static func loadOrCreateAuthority(_ files: Files, hostName: String) throws -> (Certificate, Certificate.PrivateKey) {
        if let certificatePEM = try? String(contentsOfFile: files.authority, encoding: .utf8),
           let keyPEM = try? String(contentsOfFile: files.authorityKey, encoding: .utf8) {
            let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
            return (try Certificate(pemEncoded: certificatePEM), Certificate.PrivateKey(key))
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Viridian")
            CommonName("Viridian host CA \(hostName) \(UUID().uuidString.prefix(8).lowercased())")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(20 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        try write(key.pemRepresentation, to: files.authorityKey, mode: 0o600)
        try write(try certificate.serializeAsPEM().pemString, to: files.authority, mode: 0o644)
        return (certificate, Certificate.PrivateKey(key))
    }

    private static func issueHostCertificate(hostName: String, publicKey: P256.Signing.PublicKey, authority: Certificate,
                                             authorityKey: Certificate.PrivateKey) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: authority.subject,
            subject: try DistinguishedName { OrganizationName("Viridian"); CommonName(hostName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.dnsName(hostName)])
            },
            issuerPrivateKey: authorityKey)
    }

    /// True when `certificate` names `hostName` in its subject alternative names.
    private static func names(_ hostName: String, _ certificate: Certificate) -> Bool {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return false }
        return names.contains(.dnsName(hostName))
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw ViridianError(.internalError, "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            throw ViridianError(.internalError, "cannot move \(temporary) into place: errno \(errno)")
        }
    }
}
