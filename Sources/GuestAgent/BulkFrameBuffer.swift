import AgentProtocol
#if canImport(Glibc)
import Glibc
#endif

/// One buffer, reused for every bulk frame a sender thread sends: bytes are read from a file
/// descriptor straight behind the frame header's place, and the frame leaves in one write. No
/// allocation, no fresh pages and no copy per frame (under TCG each of those costs the guest dearly).
final class BulkFrameBuffer {
    /// The largest payload one frame carries.
    let capacity: Int
    private let storage: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Frame.maximumPayload)
        self.capacity = capacity
        storage = .allocate(byteCount: Frame.headerSize + capacity, alignment: 16)
    }

    deinit {
        storage.deallocate()
    }

    /// Reads up to `capacity` bytes from `fd` into the payload's place; 0 at end of file.
    /// - Throws: `SystemError` with errno.
    func fill(from fd: Int32) throws(SystemError) -> Int {
        while true {
            let result = read(fd, storage.baseAddress! + Frame.headerSize, capacity)
            if result >= 0 { return result }
            if errno != EINTR { throw SystemError(operation: "read", code: errno) }
        }
    }

    /// The frame of the first `count` payload bytes, header included; valid until the next `fill`.
    func frame(kind: FrameKind, channel: UInt32, count: Int) -> UnsafeRawBufferPointer {
        let header = FrameHeader(length: count, kind: kind, channel: channel).encoded()
        header.withUnsafeBytes { storage.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: Frame.headerSize) }
        return UnsafeRawBufferPointer(rebasing: storage[0..<Frame.headerSize + count])
    }
}
