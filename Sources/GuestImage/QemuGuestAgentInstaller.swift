import APITypes
import Foundation
import HostTools

/// Puts Debian's `qemu-ga` into an initramfs tree: the binary from the package, and every shared
/// library it links (as `ldd` resolves them on this host, which runs the same Debian release).
struct QemuGuestAgentInstaller {
    static let package = "qemu-guest-agent"

    let root: String
    let dpkgDeb: String

    func install(deb: String, work: String) async throws {
        let tree = "\(work)/qga"
        try await HostCommand.check(dpkgDeb, ["-x", deb, tree], purpose: "unpacking \(Self.package)")
        try await HostBinaryCopier(root: root).install("\(tree)/usr/sbin/qemu-ga", at: "/usr/sbin/qemu-ga",
                                                       package: "qemu-system-x86")
        // qemu-ga runs `shutdown -P|-H|-r +0 MESSAGE`; busybox has poweroff and reboot instead.
        let shutdown = "\(root)/sbin/shutdown"
        if !FileManager.default.fileExists(atPath: shutdown) {
            try TestGuestRecipe.shutdownShim.write(toFile: shutdown, atomically: false, encoding: .utf8)
            chmod(shutdown, 0o755)
        }
        try TestGuestRecipe.qemuGuestAgentInit.write(toFile: "\(root)/etc/init.d/qemu-guest-agent", atomically: false, encoding: .utf8)
        chmod("\(root)/etc/init.d/qemu-guest-agent", 0o755)
    }
}
