import APITypes
import Foundation

/// The Diffie-Hellman group QEMU's TLS server credentials load (`dh-params.pem` in the folder of a
/// `tls-creds-x509` or `tls-creds-psk` object with `endpoint=server`): RFC 7919's published group
/// ffdhe2048, as `openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048` prints it.
/// Without the file QEMU generates fresh parameters every time it loads server credentials, which
/// took 0.8 to 3 s of a processor here (each destination worker of a move, each NBD export), for
/// parameters the ECDHE key exchange Viridian's TLS uses does not need.
public enum TLSDiffieHellmanGroup {
    public static let fileName = "dh-params.pem"

    static let ffdhe2048 = """
        -----BEGIN DH PARAMETERS-----
        MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
        +8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
        87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
        YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
        7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
        ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
        -----END DH PARAMETERS-----

        """

    /// Writes the group into a server credentials folder (replacing one already there, atomically).
    public static func write(into directory: String) throws {
        let path = "\(directory)/\(fileName)"
        do {
            try Data(ffdhe2048.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ViridianError(.internalError, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
