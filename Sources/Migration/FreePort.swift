import APITypes
import Foundation

/// A TCP port nothing listens on now, for a worker's migration or NBD listener.
package enum FreePort {
    package static func pick() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ViridianError(.internalError, "cannot open a socket: errno \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(socket, raw, length) == 0 else { return false }
                return getsockname(socket, raw, &length) == 0
            }
        }
        guard bound else { throw ViridianError(.internalError, "cannot find a free TCP port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
