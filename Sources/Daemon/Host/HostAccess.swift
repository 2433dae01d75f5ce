import Foundation
import HostServices
import Logging

/// Who may drive viridiand and read what it keeps: root and the members of the `viridian` group
/// reach the API socket (mode 0660, group `viridian`); nobody else can enter the state directory
/// (mode 0750, group `viridian`), which holds the disks viridiand makes, saved memory, console logs
/// and TLS keys. Files are created under umask 027, so nothing is readable by other users.
public enum HostAccess {
    /// The group whose members may use the API.
    public static let groupName = APIGroup.name
    /// The process umask: files 0640, folders 0750.
    public static let umaskBits: mode_t = 0o027

    /// The `viridian` group's id, nil when the group does not exist.
    static var groupID: gid_t? { APIGroup.id }

    /// Sets the umask every file of viridiand and its workers is created under.
    public static func applyUmask() {
        umask(umaskBits)
    }

    /// Makes `directory` (the state directory) 0750 with group `viridian` where it exists.
    static func protectStateDirectory(_ directory: String, logger: Logger) {
        if let group = groupID, chown(directory, geteuid(), group) != 0 {
            logger.warning("cannot give the state directory to group \(groupName)", metadata: ["errno": "\(errno)"])
        }
        if chmod(directory, 0o750) != 0 {
            logger.error("cannot restrict the state directory", metadata: ["path": "\(directory)", "errno": "\(errno)"])
        }
    }

    /// Opens the bound API socket to group `viridian` (0660). Without the group, or when the group
    /// cannot be given, the socket stays the owner's alone (0600) and the log says how to fix it.
    /// Until this runs the socket has the umask's mode, which lets only the owner connect.
    static func openSocket(_ path: String, logger: Logger) {
        guard let group = groupID else {
            chmod(path, 0o600)
            logger.warning("group '\(groupName)' does not exist: only the daemon's user can use the API; create it with: groupadd --system \(groupName)")
            return
        }
        guard chown(path, geteuid(), group) == 0, chmod(path, 0o660) == 0 else {
            chmod(path, 0o600)
            logger.error("cannot open the API socket to group '\(groupName)'; only the daemon's user can use it", metadata: ["errno": "\(errno)"])
            return
        }
    }
}
