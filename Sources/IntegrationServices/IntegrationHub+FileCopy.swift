import AgentProtocol
import APITypes
import Foundation

extension IntegrationHub {
    /// Copies the host file `source` to `destination` in the guest. Returns the bytes copied.
    public func putFile(source: String, destination: String, createFullPath: Bool, overwrite: Bool,
                        progress: CopyProgress) async throws -> Int64 {
        guard let handle = FileHandle(forReadingAtPath: source) else {
            throw ViridianError(.notFound, "cannot read \(source) on the host")
        }
        defer { try? handle.close() }
        let size = Int64(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        await waitUntilAnswering(.fcopy)
        if isNegotiated(.fcopy) {
            try await putViridian(handle, size: size, destination: destination, createFullPath: createFullPath,
                                  overwrite: overwrite, progress: progress)
        } else {
            try requireFallback(.fcopy)
            try await putFallback(handle, size: size, destination: destination, createFullPath: createFullPath,
                                  overwrite: overwrite, progress: progress)
        }
        return size
    }

    private func putViridian(_ handle: FileHandle, size: Int64, destination: String, createFullPath: Bool, overwrite: Bool,
                             progress: CopyProgress) async throws {
        let request = try connection(.fcopy).openRequest()
        defer { request.close() }
        try await request.send(PutBegin(path: destination, size: size, createFullPath: createFullPath,
                                        overwrite: overwrite, mode: 0o644))
        let accepted = try await request.reply(FileCopyReply.self, timeout: FileCopyLimits.stallTimeout)
        guard accepted.ok else { throw Self.guestRefusal(accepted.error) }
        var sent: Int64 = 0
        do {
            while sent < size {
                try Task.checkCancellation()
                let count = try await request.sendData(readingFrom: handle.fileDescriptor,
                                                       upTo: Int(min(Int64(FileCopyLimits.frameSize), size - sent)))
                guard count > 0 else { break }
                sent += Int64(count)
                progress(sent, size)
            }
            try await request.send(PutEnd())
        } catch {
            try? await request.send(CopyAbort())
            throw error
        }
        let committed = try await request.reply(FileCopyReply.self, timeout: .seconds(120))
        guard committed.ok else { throw Self.guestRefusal(committed.error) }
    }

    private func putFallback(_ handle: FileHandle, size: Int64, destination: String, createFullPath: Bool, overwrite: Bool,
                             progress: CopyProgress) async throws {
        guard GuestPathCheck.isAbsolute(destination) else {
            throw ViridianError(.invalidArgument, "'\(destination)' is not an absolute guest path")
        }
        let directory = (destination as NSString).deletingLastPathComponent
        if createFullPath {
            _ = try await fallbackRun(["mkdir", "-p", directory])
        }
        if !overwrite, try await fallbackRun(["test", "-e", destination]) == 0 {
            throw ViridianError(.alreadyExists, "\(destination) exists in the guest (use --overwrite)")
        }
        let partial = "\(directory)/.viridian-partial-\(UUID().uuidString.prefix(8))"
        let fileHandle = try await fallback.execute("guest-file-open", ["path": .string(partial), "mode": .string("w")])
        var sent: Int64 = 0
        do {
            while sent < size {
                try Task.checkCancellation()
                guard let chunk = try handle.read(upToCount: FileCopyLimits.chunkSize), !chunk.isEmpty else { break }
                _ = try await fallback.execute("guest-file-write", ["handle": fileHandle, "buf-b64": .string(chunk.base64EncodedString())])
                sent += Int64(chunk.count)
                progress(sent, size)
            }
            _ = try await fallback.execute("guest-file-close", ["handle": fileHandle])
        } catch {
            _ = try? await fallback.execute("guest-file-close", ["handle": fileHandle], timeout: .seconds(5))
            _ = try? await fallbackRun(["rm", "-f", partial])
            throw error
        }
        guard try await fallbackRun(["mv", "-f", partial, destination]) == 0 else {
            _ = try? await fallbackRun(["rm", "-f", partial])
            throw ViridianError(.engineFailure, "the guest could not move the file into \(destination)")
        }
    }

    /// Copies the guest file `source` to the host path `destination` (the caller checked it).
    /// The bytes land in a temporary file beside it, renamed only when complete.
    public func getFile(source: String, destination: String, overwrite: Bool, progress: CopyProgress) async throws -> Int64 {
        let directory = (destination as NSString).deletingLastPathComponent
        let partial = "\(directory)/.\((destination as NSString).lastPathComponent).viridian-partial-\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let output = FileHandle(forWritingAtPath: partial) else {
            throw ViridianError(.invalidArgument, "cannot write \(partial) on the host")
        }
        var committed = false
        defer {
            try? output.close()
            if !committed { try? FileManager.default.removeItem(atPath: partial) }
        }
        let received: Int64
        await waitUntilAnswering(.fcopy)
        if isNegotiated(.fcopy) {
            received = try await getViridian(source, into: output, progress: progress)
        } else {
            try requireFallback(.fcopy)
            received = try await getFallback(source, into: output, progress: progress)
        }
        try output.synchronize()
        if !overwrite && FileManager.default.fileExists(atPath: destination) {
            throw ViridianError(.alreadyExists, "\(destination) appeared on the host meanwhile (use --overwrite)")
        }
        guard rename(partial, destination) == 0 else {
            throw ViridianError(.engineFailure, "cannot move the copy into \(destination): \(String(cString: strerror(errno)))")
        }
        committed = true
        return received
    }

    private func getViridian(_ source: String, into output: FileHandle, progress: CopyProgress) async throws -> Int64 {
        let request = try connection(.fcopy).openRequest()
        defer { request.close() }
        try await request.send(GetBegin(path: source))
        let opened = try await request.reply(FileCopyReply.self, timeout: FileCopyLimits.stallTimeout)
        guard opened.ok, let size = opened.size, size >= 0 else { throw Self.guestRefusal(opened.error) }
        guard size <= FileCopyLimits.maximumFromGuest else {
            try? await request.send(CopyAbort())
            throw ViridianError(.invalidArgument, "the guest file is \(size) bytes; the limit is \(FileCopyLimits.maximumFromGuest)")
        }
        var received: Int64 = 0
        do {
            while true {
                try Task.checkCancellation()
                guard let frame = try await request.next(timeout: FileCopyLimits.stallTimeout, what: "file data") else {
                    throw ViridianError(.notResponding, "the guest's file copy service went away during the copy")
                }
                if frame.kind == .data {
                    received += Int64(frame.payload.count)
                    guard received <= size else {
                        throw ViridianError(.engineFailure, "the guest sent more than the \(size) bytes it announced")
                    }
                    try output.write(contentsOf: frame.payload)
                    progress(received, size)
                } else if frame.kind == .message {
                    let type = try MessageCodec.type(of: frame)
                    if type == GetEnd.type { break }
                    if type == FileCopyReply.type {
                        throw Self.guestRefusal(try MessageCodec.decode(FileCopyReply.self, from: frame).error)
                    }
                }
            }
        } catch {
            try? await request.send(CopyAbort())
            throw error
        }
        guard received == size else {
            throw ViridianError(.engineFailure, "the guest sent \(received) of \(size) bytes (the file changed during the copy?)")
        }
        return received
    }

    private func getFallback(_ source: String, into output: FileHandle, progress: CopyProgress) async throws -> Int64 {
        guard GuestPathCheck.isAbsolute(source) else {
            throw ViridianError(.invalidArgument, "'\(source)' is not an absolute guest path")
        }
        let fileHandle = try await fallback.execute("guest-file-open", ["path": .string(source), "mode": .string("r")])
        defer { Task { [fallback] in _ = try? await fallback.execute("guest-file-close", ["handle": fileHandle], timeout: .seconds(5)) } }
        var received: Int64 = 0
        while true {
            try Task.checkCancellation()
            let result = try await fallback.execute("guest-file-read", ["handle": fileHandle, "count": .int(Int64(FileCopyLimits.chunkSize))])
            guard let encoded = result["buf-b64"]?.stringValue, let data = Data(base64Encoded: encoded) else {
                throw ViridianError(.engineFailure, "qemu-guest-agent sent an unreadable file chunk")
            }
            received += Int64(data.count)
            guard received <= FileCopyLimits.maximumFromGuest else {
                throw ViridianError(.invalidArgument, "the guest file exceeds the limit of \(FileCopyLimits.maximumFromGuest) bytes")
            }
            try output.write(contentsOf: data)
            progress(received, received)
            if result["eof"]?.boolValue == true || data.isEmpty { break }
        }
        return received
    }

    static func guestRefusal(_ message: String?) -> ViridianError {
        ViridianError(.invalidArgument, "the guest refused the copy: \(String((message ?? "no reason given").prefix(300)))")
    }
}

/// Checks a guest path before it goes to the guest agent.
enum GuestPathCheck {
    static func isAbsolute(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.contains("\0") && path.utf8.count <= 4096
    }
}
