#if canImport(Glibc)
import Glibc
#endif

/// Blocking reads and writes on a raw file descriptor, retrying on EINTR.
public enum FileDescriptor {
    /// Reads up to `count` bytes; returns an empty array at end of file.
    /// - Throws: `SystemError` with errno.
    public static func read(_ fd: Int32, count: Int) throws(SystemError) -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while true {
                let result = Glibc.read(fd, buffer.baseAddress, count)
                if result >= 0 {
                    initialized = result
                    return
                }
                if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        if failure != 0 { throw SystemError(operation: "read", code: failure) }
        return bytes
    }

    /// Writes every byte.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        let failure = bytes.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) {
                try writeAll(fd, raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Writes every byte of `bytes`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let result = Glibc.write(fd, base + offset, bytes.count - offset)
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
