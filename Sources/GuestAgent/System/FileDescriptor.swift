#if canImport(Glibc)
import Glibc
#endif

/// Blocking reads and writes on a raw file descriptor, retrying on EINTR.
public enum FileDescriptor {
    /// Reads up to `count` bytes; returns an empty array at end of file.
    /// - Throws: `SystemError` with errno.
    public static func read(_ fd: Int32, count: Int) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let result = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
            if result >= 0 {
                buffer.removeLast(count - result)
                return buffer
            }
            if errno != EINTR { throw SystemError(operation: "read", code: errno) }
        }
    }

    /// Reads into `buffer` (reused between calls); returns how many bytes arrived, 0 at end of file.
    public static func read(_ fd: Int32, into buffer: inout [UInt8]) throws(SystemError) -> Int {
        while true {
            let count = buffer.count
            let result = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
            if result >= 0 { return result }
            if errno != EINTR { throw SystemError(operation: "read", code: errno) }
        }
    }

    /// Writes every byte.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if result < 0 {
                if errno == EINTR { continue }
                throw SystemError(operation: "write", code: errno)
            }
            offset += result
        }
    }
}

/// A failed system call.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
