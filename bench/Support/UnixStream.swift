import Foundation

/// A blocking unix-socket client for driving a bare QEMU's chardevs from a benchmark.
public final class UnixStream {
    private let fd: Int32
    private var pending: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(.EPIPE) }
            offset += written
        }
    }

    /// Writes `count` zero bytes in 1 MiB pieces.
    public func writeZeros(_ count: Int) throws {
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var left = count
        while left > 0 {
            try write(Array(chunk.prefix(min(left, chunk.count))))
            left -= min(left, chunk.count)
        }
    }

    /// Reads until the received text contains `marker`; returns what came up to and including it.
    public func readUntil(_ marker: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        let needle = Array(marker.utf8)
        while true {
            if let range = find(needle) {
                let text = String(decoding: pending[..<range], as: UTF8.self)
                pending.removeFirst(range)
                return text
            }
            guard Date() < deadline else { throw POSIXError(.ETIMEDOUT) }
            try receive(deadline: deadline)
        }
    }

    /// Reads and drops exactly `count` bytes.
    public func readCount(_ count: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var left = count
        while left > 0 {
            if pending.isEmpty { try receive(deadline: deadline) }
            let taken = min(left, pending.count)
            pending.removeFirst(taken)
            left -= taken
        }
    }

    private func receive(deadline: Date) throws {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let wait = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
        guard poll(&poller, 1, wait) > 0 else { throw POSIXError(.ETIMEDOUT) }
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { throw POSIXError(.ECONNRESET) }
        pending += buffer[0..<count]
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard pending.count >= needle.count, !needle.isEmpty else { return nil }
        for start in 0...(pending.count - needle.count) where pending[start] == needle[0] {
            if Array(pending[start..<start + needle.count]) == needle { return start + needle.count }
        }
        return nil
    }
}
