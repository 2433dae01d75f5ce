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

    /// Runs `write` on a temporary file beside `path`, then renames it to `path`.
    /// On any error or cancel the temporary file is removed.
    public static func writeAtomically(to path: String, _ write: (String) async throws -> Void) async throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = "\(directory)/.\(name).partial-\(UUID().uuidString.prefix(8))"
        do {
            try await write(temporary)
            try Task.checkCancellation()
            guard rename(temporary, path) == 0 else {
                throw ViridianError(.internalError, "cannot rename \(temporary) to \(path): errno \(errno)")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}
