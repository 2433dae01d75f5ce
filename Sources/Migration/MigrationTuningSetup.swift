import APITypes
import QMP

/// The migration capabilities and parameters both workers of a move set alike (QEMU requires
/// the capabilities on both ends).
package enum MigrationTuningSetup {
    /// Sets capabilities for `tuning`, and the TLS credentials (and, on the source, the host name
    /// the destination's certificate must carry).
    package static func apply(_ tuning: MigrationTuning, to client: QMPClient, tlsCredentials: String, tlsHostName: String?,
                              pauseBeforeSwitchover: Bool = false) async throws {
        let multifd = tuning.channels > 1 || tuning.compression == .zlib || tuning.compression == .zstd
        try await client.setMigrationCapabilities([
            "pause-before-switchover": pauseBeforeSwitchover,
            "multifd": multifd,
            "xbzrle": tuning.compression == .xbzrle,
        ])
        var parameters: [String: JSONValue] = ["tls-creds": .string(tlsCredentials)]
        if let tlsHostName { parameters["tls-hostname"] = .string(tlsHostName) }
        if multifd {
            parameters["multifd-channels"] = .int(Int64(max(1, tuning.channels)))
            parameters["multifd-compression"] = .string(tuning.compression == .xbzrle ? "none" : tuning.compression.rawValue)
        }
        try await client.setMigrationParameters(parameters)
    }
}
