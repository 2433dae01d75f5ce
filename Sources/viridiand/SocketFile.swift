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
        if isServed(path) {
            throw ViridianError(.alreadyExists, "another viridiand is already serving \(path)")
        }
        try FileManager.default.removeItem(atPath: path)
    }

    private static func isServed(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}
