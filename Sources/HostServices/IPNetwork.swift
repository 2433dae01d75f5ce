import APITypes
import Foundation

/// An IPv4 or IPv6 network written as a CIDR (`10.1.0.0/24`), and the host's addresses on it.
package struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    package let bytes: [UInt8]
    package let prefixLength: Int

    /// Parses `ADDRESS/PREFIX`. - Throws: `invalidArgument` with the expected form.
    package init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = Self.addressBytes(String(parts[0])), let prefix = Int(parts[1]),
              (0...(address.count * 8)).contains(prefix)
        else {
            throw ViridianError(.invalidArgument, "'\(text)' is not a network: write ADDRESS/PREFIX, for example 10.1.0.0/24")
        }
        bytes = address
        prefixLength = prefix
    }

    /// True when `address` (text) lies in this network.
    package func contains(_ address: String) -> Bool {
        guard let other = Self.addressBytes(address), other.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    package var description: String {
        let address = bytes.count == 4 ? bytes.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(format: "%x", Int(bytes[$0]) << 8 | Int(bytes[$0 + 1])) }.joined(separator: ":")
        return "\(address)/\(prefixLength)"
    }

    /// The address's bytes (4 or 16), or nil when `text` is not an IP address.
    package static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    /// Every IPv4 and IPv6 address of this host's interfaces that are up (loopback included).
    package static func hostAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !text.contains("%") { addresses.append(text) }
        }
        return addresses
    }
}
