import Foundation

/// Tells whether something accepts connections on a unix socket, without sending anything.
public enum UnixSocketProbe {
    /// What a connection attempt to a unix socket finds.
    public enum State: Sendable, Equatable {
        case listening
        /// Nothing serves the path (no file, a stale socket).
        case notListening
        /// The socket (or a folder on its way) does not let this user connect.
        case permissionDenied
    }

    public static func isListening(_ path: String) -> Bool {
        state(path) == .listening
    }

    /// Tries to connect to `path`, telling a refused connection from one this user may not make.
    public static func state(_ path: String) -> State {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return .notListening }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return .notListening }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        if connected { return .listening }
        return errno == EACCES || errno == EPERM ? .permissionDenied : .notListening
    }
}
