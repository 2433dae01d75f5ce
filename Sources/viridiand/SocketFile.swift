import APITypes
import Foundation

/// The API socket's file: a stale one from a crashed daemon is removed; a live one is an error.
enum SocketFile {
    static func prepare(_ path: String) throws {
        guard path.utf8.count < 104 else {
            throw ViridianError(.invalidArgument, "the socket path \(path) is too long for a unix socket (max 103 bytes)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.fileExists(atPath: path) else { return }
        if UnixSocketProbe.isListening(path) {
            throw ViridianError(.alreadyExists, "another viridiand is already serving \(path)")
        }
        try FileManager.default.removeItem(atPath: path)
    }

    /// Removes the socket file when the daemon stops.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
