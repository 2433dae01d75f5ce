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
        let binary = "\(tree)/usr/sbin/qemu-ga"
        try copy(binary, to: "/usr/sbin/qemu-ga", mode: 0o755)
        let ldd = try await HostCommand.check("ldd", [binary], purpose: "listing qemu-ga's libraries")
        for line in ldd.standardOutput.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if line.contains("not found") {
                throw ViridianError(.missingDependency,
                                    "qemu-ga needs \(fields.first ?? "a library") which this host lacks; run: apt-get install qemu-system-x86")
            }
            guard let library = fields.first(where: { $0.hasPrefix("/") }) else { continue }
            try copy(library, to: library, mode: 0o755)
        }
        // qemu-ga runs `shutdown -P|-H|-r +0 MESSAGE`; busybox has poweroff and reboot instead.
        let shutdown = "\(root)/sbin/shutdown"
        if !FileManager.default.fileExists(atPath: shutdown) {
            try TestGuestRecipe.shutdownShim.write(toFile: shutdown, atomically: false, encoding: .utf8)
            chmod(shutdown, 0o755)
        }
        try TestGuestRecipe.qemuGuestAgentInit.write(toFile: "\(root)/etc/init.d/qemu-guest-agent", atomically: false, encoding: .utf8)
        chmod("\(root)/etc/init.d/qemu-guest-agent", 0o755)
    }

    /// Copies the file `source` resolves to, to `destination` inside the tree.
    private func copy(_ source: String, to destination: String, mode: mode_t) throws {
        let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
        let target = "\(root)\(destination)"
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: resolved, toPath: target)
        chmod(target, mode)
    }
}
