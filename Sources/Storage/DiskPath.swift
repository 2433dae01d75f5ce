import APITypes
import Foundation

/// Path checks and all-or-nothing writes for disk files.
public enum DiskPath {
    /// Throws unless `path` is absolute and names an existing regular file.
    public static func requireExisting(_ path: String) throws {
        guard path.hasPrefix("/") else {
            throw ViridianError(.invalidArgument, "disk paths must be absolute: '\(path)'")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ViridianError(.notFound, "no file at \(path)")
        }
        guard !isDirectory.boolValue else { throw ViridianError(.invalidArgument, "\(path) is a directory, not a disk") }
    }

    /// Throws unless `path` is absolute and names a regular file (a symbolic link is followed):
    /// a FIFO, a device node or a directory is never a disk, and qemu-img never opens one.
    public static func requireRegularFile(_ path: String) throws {
        try requireExisting(path)
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ViridianError(.notFound, "cannot read \(path): errno \(errno)")
        }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let what = kind == S_IFIFO ? "a FIFO" : kind == S_IFCHR ? "a character device"
                : kind == S_IFBLK ? "a block device (a pass-through disk: viridian vm disk add VM DEVICE --pass-through)" : kind == S_IFSOCK ? "a socket" : "not a regular file"
            throw ViridianError(.invalidArgument, "\(path) is \(what), not a disk image")
        }
    }

    /// Throws unless `path` is absolute, does not exist, and its directory does.
    public static func requireAbsent(_ path: String) throws {
        guard path.hasPrefix("/") else {
            throw ViridianError(.invalidArgument, "disk paths must be absolute: '\(path)'")
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ViridianError(.alreadyExists, "\(path) exists already; Viridian never overwrites a disk")
        }
        let directory = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ViridianError(.notFound, "the directory \(directory) does not exist")
        }
    }

    /// Runs `write` on a temporary file beside `path`, then publishes it at `path` without
    /// replacing anything (`link` fails when `path` appeared meanwhile: the second writer loses
    /// cleanly). On any error or cancel the temporary file is removed.
    public static func writeAtomically(to path: String, _ write: (String) async throws -> Void) async throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = "\(directory)/.\(name).partial-\(UUID().uuidString.prefix(8))"
        do {
            try await write(temporary)
            try Task.checkCancellation()
            guard link(temporary, path) == 0 else {
                if errno == EEXIST {
                    throw ViridianError(.alreadyExists, "\(path) appeared while it was being written; Viridian never overwrites a disk")
                }
                throw ViridianError(.internalError, "cannot publish \(temporary) as \(path): errno \(errno)")
            }
            unlink(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Replaces `path` with a copy of `source` (a UEFI variable store, a TPM's state put back): the
    /// copy is made beside it and renamed over it, so `path` is the old file or the new one, never half.
    public static func replaceAtomically(_ path: String, copying source: String) throws {
        let partial = "\(path).partial"
        try? FileManager.default.removeItem(atPath: partial)
        try FileManager.default.copyItem(atPath: source, toPath: partial)
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw ViridianError(.internalError, "cannot put \(source) in place as \(path): \(reason)")
        }
    }

    /// Writes `data` into a temporary file beside `path`, flushes it and renames it over `path` in
    /// one step: a small description that is replaced whole (a chain, a state), never a disk.
    public static func replaceAtomically(_ path: String, with data: Data) throws {
        let partial = "\(path).partial"
        try data.write(to: URL(fileURLWithPath: partial))
        let descriptor = open(partial, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        guard rename(partial, path) == 0 else {
            throw ViridianError(.internalError, "cannot store \(path): \(String(cString: strerror(errno)))")
        }
    }
}
