import APITypes
import Foundation
import HostTools

/// Copies a dynamically linked program into an initramfs tree with every shared library it links
/// (as `ldd` resolves them on this host, which runs the same Debian release as the guest).
struct HostBinaryCopier {
    let root: String

    /// Copies `binary` to `destination` in the tree, and its libraries to their own paths.
    /// - Throws: `missingDependency` naming `package` when a library is missing.
    func install(_ binary: String, at destination: String, package: String) async throws {
        try copy(binary, to: destination, mode: 0o755)
        let ldd = try await HostCommand.check("ldd", [binary], purpose: "listing the libraries of \(binary)")
        for line in ldd.standardOutput.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if line.contains("not found") {
                throw ViridianError(.missingDependency,
                                    "\(binary) needs \(fields.first ?? "a library") which this host lacks; run: apt-get install \(package)")
            }
            guard let library = fields.first(where: { $0.hasPrefix("/") }) else { continue }
            try copy(library, to: library, mode: 0o755)
        }
    }

    /// Copies the file `source` resolves to, to `destination` inside the tree.
    func copy(_ source: String, to destination: String, mode: mode_t) throws {
        let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
        let target = "\(root)\(destination)"
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: resolved, toPath: target)
        chmod(target, mode)
    }
}
