import AgentProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Reads frames from a port device with a single copy: the header first, then the payload.
/// Control messages get an array of their own; bulk bytes land in one buffer reused for every
/// frame (under TCG every extra copy, and every freshly faulted page, in the guest is expensive).
final class PortFrameReader {
    enum Outcome {
        case message(Frame)
        /// Bulk bytes on a channel, valid until the next call of `next()`.
        case bulk(FrameHeader, UnsafeRawBufferPointer)
        /// The host side is not connected (the device reads as end of file).
        case hostAway
        /// The host sent an invalid header; the stream is out of step.
        case invalid
        /// The device failed (unplugged).
        case failed
    }

    let fd: Int32
    /// Allocated at the first bulk frame, so ports that never carry bulk bytes hold no buffer.
    private var bulkBuffer: UnsafeMutableRawBufferPointer?

    init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        bulkBuffer?.deallocate()
    }

    func next() -> Outcome {
        var headerBytes = [UInt8](repeating: 0, count: Frame.headerSize)
        let headerRead = headerBytes.withUnsafeMutableBytes { readExactly(into: $0) }
        guard headerRead == .complete else { return headerRead == .endOfFile ? .hostAway : .failed }
        let header: FrameHeader
        do {
            header = try FrameHeader(headerBytes[...])
        } catch {
            return .invalid
        }
        if header.kind == .message {
            var status = ReadStatus.complete
            let payload = [UInt8](unsafeUninitializedCapacity: header.length) { buffer, initialized in
                status = readExactly(into: UnsafeMutableRawBufferPointer(buffer))
                initialized = status == .complete ? header.length : 0
            }
            return outcome(status) { .message(Frame(kind: header.kind, channel: header.channel, payload: payload)) }
        }
        let buffer = bulkBuffer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Frame.maximumPayload, alignment: 16)
        bulkBuffer = buffer
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<header.length])
        return outcome(readExactly(into: payload)) { .bulk(header, UnsafeRawBufferPointer(payload)) }
    }

    private func outcome(_ status: ReadStatus, _ complete: () -> Outcome) -> Outcome {
        switch status {
        case .complete: complete()
        case .endOfFile: .hostAway
        case .error: .failed
        }
    }

    private enum ReadStatus { case complete, endOfFile, error }

    private func readExactly(into buffer: UnsafeMutableRawBufferPointer) -> ReadStatus {
        guard let base = buffer.baseAddress else { return .complete }
        var offset = 0
        while offset < buffer.count {
            let result = read(fd, base + offset, buffer.count - offset)
            if result > 0 {
                offset += result
            } else if result == 0 {
                return .endOfFile
            } else if errno != EINTR {
                return .error
            }
        }
        return .complete
    }
}
