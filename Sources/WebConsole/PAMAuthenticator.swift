import APITypes
import CPAM
import Dispatch
import Foundation

/// Signs Linux accounts in through PAM (service `viridian`, `/etc/pam.d/viridian`; PAM falls back
/// to its `other` stack without it), as Proxmox and Cockpit do. Only root and members of the
/// `viridian` group, who may drive viridiand through its socket, may sign in.
public struct PAMAuthenticator: Sendable {
    public static let service = "viridian"
    let groupName: String

    public init(groupName: String) {
        self.groupName = groupName
    }

    /// Why a sign-in failed; the web listener shows every case as the same refusal.
    public enum Refusal: Error, Equatable {
        case badCredentials(String)
        case notInGroup
    }

    /// Checks `user`'s password, then the group. PAM's modules block (pam_unix waits after a wrong
    /// password), so the check runs on its own thread, never on Swift's few cooperative ones.
    public func authenticate(user: String, password: String) async throws {
        guard !user.isEmpty, user.utf8.count <= 64, !user.contains("\0"), !password.contains("\0"), password.utf8.count <= 1024 else {
            throw Refusal.badCredentials("the user name or password is malformed")
        }
        let status: Int32 = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: viridian_pam_check(Self.service, user, password))
            }
        }
        guard status == 0 else { throw Refusal.badCredentials(String(cString: viridian_pam_reason(status))) }
        guard Self.isMember(user: user, of: groupName) else { throw Refusal.notInGroup }
    }

    /// Root, or an account whose groups (primary or supplementary) include `group`.
    static func isMember(user: String, of group: String) -> Bool {
        guard let account = getpwnam(user) else { return false }
        if account.pointee.pw_uid == 0 { return true }
        guard let entry = getgrnam(group) else { return false }
        let wanted = entry.pointee.gr_gid
        let primary = account.pointee.pw_gid
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user, primary, &groups, &count) >= 0 else { return false }
        }
        return groups.prefix(Int(count)).contains(wanted)
    }
}
