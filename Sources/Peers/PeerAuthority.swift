import APITypes
import Crypto
import Foundation
import X509

/// A peer's CA certificate, parsed: what this host trusts, and the check that a host
/// certificate was issued by it.
package struct PeerAuthority: Sendable {
    package let certificate: Certificate
    package let pem: String

    /// Parses a PEM CA certificate. - Throws: `invalidArgument` when it is not one.
    package init(pem: String) throws {
        do {
            certificate = try Certificate(pemEncoded: pem.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw ViridianError(.invalidArgument, "the peer certificate is not a PEM certificate; use the output of 'viridian host certificate' on the peer", cause: error)
        }
        guard let constraints = try? certificate.extensions.basicConstraints,
              case .isCertificateAuthority = constraints else {
            throw ViridianError(.invalidArgument, "the peer certificate is not a host CA certificate; use the output of 'viridian host certificate' on the peer")
        }
        self.pem = try certificate.serializeAsPEM().pemString
    }

    /// SHA-256 of the DER encoding, as hex.
    package var fingerprint: String {
        let der = (try? certificate.serializeAsPEM().derBytes) ?? []
        return SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
    }

    package var subject: String { certificate.subject.description }

    /// True when `hostCertificate` was issued by this CA and is valid now.
    package func issued(_ hostCertificate: Certificate, at time: Date = Date()) -> Bool {
        hostCertificate.issuer == certificate.subject
            && certificate.publicKey.isValidSignature(hostCertificate.signature, for: hostCertificate)
            && hostCertificate.notValidBefore <= time && time <= hostCertificate.notValidAfter
    }
}
