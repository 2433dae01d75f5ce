import APITypes
import Foundation

/// The group whose members may drive viridiand (`viridian`): they reach the API socket, enter the
/// state directory, and read what viridiand hands them to use outside it (an export's TLS key).
public enum APIGroup {
    public static let name = "viridian"

    /// The group's id, nil when the group does not exist.
    public static var id: gid_t? {
        guard let entry = getgrnam(name) else { return nil }
        return entry.pointee.gr_gid
    }

    /// Gives `path` to the group with `mode` (a folder 0750, a file 0640). Without the group, `path`
    /// stays its owner's alone, and the answer is false.
    /// - Throws: `invalidState` when the change fails.
    @discardableResult
    public static func share(_ path: String, mode: mode_t) throws -> Bool {
        guard let group = id else { return false }
        guard chown(path, geteuid(), group) == 0, chmod(path, mode) == 0 else {
            throw ViridianError(.invalidState, "cannot give \(path) to group '\(name)': \(String(cString: strerror(errno)))")
        }
        return true
    }
}
