import AgentProtocol
import CGuestSystem
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Guest Service Interface: files from the host land under a temporary name and are renamed into
/// place only when every byte arrived; files to the host stream from a thread of their own.
final class FileCopyHandler: GuestServiceHandler {
    /// Bytes per data frame sent to the host.
    static let chunkSize = 1024 * 1024

    private struct Incoming {
        var fd: Int32
        var temporaryPath: String
        var path: String
        var expected: Int64
        var received: Int64 = 0
        var overwrite: Bool
    }

    private let incoming = Mutex<[UInt32: Incoming]>([:])
    private let cancelledOutgoing = Mutex<Set<UInt32>>([])

    func handle(_ frame: Frame, on port: GuestPort) {
        switch try? MessageCodec.type(of: frame) {
        case PutBegin.type:
            guard let request = try? MessageCodec.decode(PutBegin.self, from: frame) else { return }
            port.send(begin(request, channel: frame.channel), channel: frame.channel)
        case PutEnd.type:
            port.send(finish(channel: frame.channel), channel: frame.channel)
        case CopyAbort.type:
            discard(channel: frame.channel)
            cancelledOutgoing.withLock { _ = $0.insert(frame.channel) }
        case GetBegin.type:
            guard let request = try? MessageCodec.decode(GetBegin.self, from: frame) else { return }
            sendFile(request.path, channel: frame.channel, port: port)
        default:
            return
        }
    }

    func hostDisconnected(_ port: GuestPort) {
        for channel in incoming.withLock({ Array($0.keys) }) { discard(channel: channel) }
    }

    private func begin(_ request: PutBegin, channel: UInt32) -> FileCopyReply {
        guard let path = GuestFilePath.validate(request.path) else {
            return FileCopyReply(ok: false, error: "'\(request.path.prefix(200))' is not an absolute guest path")
        }
        guard request.size >= 0 else { return FileCopyReply(ok: false, error: "negative size") }
        let directory = GuestFilePath.directory(of: path)
        if !FileManager.default.fileExists(atPath: directory) {
            guard request.createFullPath else {
                return FileCopyReply(ok: false, error: "\(directory) does not exist (use --create-full-path)")
            }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                return FileCopyReply(ok: false, error: "cannot create \(directory): \(error)")
            }
        } else if !GuestFilePath.isDirectory(directory) {
            return FileCopyReply(ok: false, error: "\(directory) is not a directory")
        }
        if FileManager.default.fileExists(atPath: path) && !request.overwrite {
            return FileCopyReply(ok: false, error: "\(path) exists (use --overwrite)")
        }
        let temporary = "\(directory)/.\(GuestFilePath.name(of: path)).viridian-partial-\(channel)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(request.mode & 0o7777))
        guard fd >= 0 else {
            return FileCopyReply(ok: false, error: SystemError(operation: "create \(temporary)", code: errno).description)
        }
        if let refusal = reserve(request.size, for: fd, temporary: temporary, directory: directory) {
            close(fd)
            unlink(temporary)
            return FileCopyReply(ok: false, error: refusal)
        }
        incoming.withLock {
            $0[channel] = Incoming(fd: fd, temporaryPath: temporary, path: path, expected: request.size,
                                   overwrite: request.overwrite)
        }
        return FileCopyReply(ok: true)
    }

    /// Makes sure the file has room before any byte is sent, so a file system without room refuses
    /// the copy at once instead of after most of it crossed: its blocks are reserved, or on tmpfs the
    /// free room is checked (reserving there allocates and zeroes every page before the transfer
    /// starts, a third of a 64 MiB copy under TCG, while the writes allocate them as the bytes
    /// arrive). Nil when there is room, or when the file system cannot reserve (the writes then find
    /// out); else why the copy cannot be taken.
    private func reserve(_ size: Int64, for fd: Int32, temporary: String, directory: String) -> String? {
        guard size > 0 else { return nil }
        switch viridian_allocate(fd, size) {
        case 0, EOPNOTSUPP, ENOSYS, EINVAL: return nil
        case ENOSPC, EDQUOT: return "\(directory) has no room for \(size) bytes"
        case let code: return SystemError(operation: "reserve \(size) bytes for \(temporary)", code: code).description
        }
    }

    func receive(_ bytes: UnsafeRawBufferPointer, channel: UInt32, on port: GuestPort) {
        guard var transfer = incoming.withLock({ $0[channel] }) else { return }
        transfer.received += Int64(bytes.count)
        var failure: String?
        if transfer.received > transfer.expected {
            failure = "the host sent more than the announced \(transfer.expected) bytes"
        } else {
            do { try FileDescriptor.writeAll(transfer.fd, bytes) } catch { failure = error.description }
        }
        if let failure {
            discard(channel: channel)
            port.send(FileCopyReply(ok: false, error: failure), channel: channel)
            return
        }
        incoming.withLock { $0[channel] = transfer }
    }

    private func finish(channel: UInt32) -> FileCopyReply {
        guard let transfer = incoming.withLock({ $0.removeValue(forKey: channel) }) else {
            return FileCopyReply(ok: false, error: "no transfer in progress")
        }
        defer { close(transfer.fd) }
        guard transfer.received == transfer.expected else {
            unlink(transfer.temporaryPath)
            return FileCopyReply(ok: false, error: "received \(transfer.received) of \(transfer.expected) bytes")
        }
        fsync(transfer.fd)
        if !transfer.overwrite && FileManager.default.fileExists(atPath: transfer.path) {
            unlink(transfer.temporaryPath)
            return FileCopyReply(ok: false, error: "\(transfer.path) appeared meanwhile (use --overwrite)")
        }
        guard rename(transfer.temporaryPath, transfer.path) == 0 else {
            let error = SystemError(operation: "rename to \(transfer.path)", code: errno)
            unlink(transfer.temporaryPath)
            return FileCopyReply(ok: false, error: error.description)
        }
        return FileCopyReply(ok: true, size: transfer.received)
    }

    private func discard(channel: UInt32) {
        guard let transfer = incoming.withLock({ $0.removeValue(forKey: channel) }) else { return }
        close(transfer.fd)
        unlink(transfer.temporaryPath)
    }

    private func sendFile(_ requested: String, channel: UInt32, port: GuestPort) {
        guard let path = GuestFilePath.validate(requested) else {
            port.send(FileCopyReply(ok: false, error: "'\(requested.prefix(200))' is not an absolute guest path"), channel: channel)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        guard fd >= 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            let reason = fd < 0 ? SystemError(operation: "open \(path)", code: errno).description : "\(path) is not a regular file"
            if fd >= 0 { close(fd) }
            port.send(FileCopyReply(ok: false, error: reason), channel: channel)
            return
        }
        cancelledOutgoing.withLock { _ = $0.remove(channel) }
        port.send(FileCopyReply(ok: true, size: Int64(info.st_size)), channel: channel)
        startThread("fcopy-get") { [self] in
            defer { close(fd) }
            stream(fd, path: path, channel: channel, port: port)
        }
    }

    /// Sends the open file `fd` as data frames, then `GetEnd`: spliced into the port (no copy
    /// through the agent, one virtqueue buffer per frame), or through a buffer where the file's
    /// file system cannot splice. A failure ends the transfer with a `FileCopyReply` saying why.
    private func stream(_ fd: Int32, path: String, channel: UInt32, port: GuestPort) {
        var pipe: [Int32] = [-1, -1]
        guard viridian_pipe_cloexec(&pipe) == 0 else {
            port.send(FileCopyReply(ok: false, error: SystemError(operation: "pipe", code: errno).description), channel: channel)
            return
        }
        defer { close(pipe[0]); close(pipe[1]) }
        // A pipe that cannot grow to a frame's size just makes smaller frames.
        _ = viridian_set_pipe_size(pipe[1], Int32(Self.chunkSize))
        // Set when the file's file system cannot splice: the bytes then go through a buffer.
        var buffer: BulkFrameBuffer?
        while !cancelledOutgoing.withLock({ $0.contains(channel) }) {
            var count = 0
            var failure: SystemError?
            if let buffer {
                do {
                    count = try buffer.fill(from: fd)
                } catch {
                    failure = error
                }
            } else {
                count = viridian_splice(fd, pipe[1], UInt(Self.chunkSize))
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EINVAL {
                        buffer = BulkFrameBuffer(capacity: Self.chunkSize)
                        continue
                    }
                    failure = SystemError(operation: "read", code: errno)
                }
            }
            if let failure {
                port.send(FileCopyReply(ok: false, error: "\(path): \(failure)"), channel: channel)
                return
            }
            if count == 0 { break }
            let sent = if let buffer {
                port.send(encodedFrame: buffer.frame(kind: .data, channel: channel, count: count))
            } else {
                port.send(FrameHeader(length: count, kind: .data, channel: channel), splicingFrom: pipe[0])
            }
            guard sent else { return }
        }
        port.send(GetEnd(), channel: channel)
    }
}
