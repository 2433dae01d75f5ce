import AgentProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Reads frames from a port device with a single copy: the header first, then the payload
/// straight into its own array (under TCG every extra copy in the guest is expensive).
struct PortFrameReader {
    enum Outcome {
        case frame(Frame)
        /// The host side is not connected (the device reads as end of file).
        case hostAway
        /// The host sent an invalid header; the stream is out of step.
        case invalid
        /// The device failed (unplugged).
        case failed
    }

    let fd: Int32

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
        var status = ReadStatus.complete
        let payload = [UInt8](unsafeUninitializedCapacity: header.length) { buffer, initialized in
            status = readExactly(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = status == .complete ? header.length : 0
        }
        switch status {
        case .complete: return .frame(Frame(kind: header.kind, channel: header.channel, payload: payload))
        case .endOfFile: return .hostAway
        case .error: return .failed
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
