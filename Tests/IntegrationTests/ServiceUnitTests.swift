import Foundation
import Testing

/// The systemd units `scripts/install.sh` installs, checked by systemd itself: this machine has no
/// systemd as PID 1 to run them, but `systemd-analyze verify` parses each unit, its directives
/// and its commands as systemd would load them.
@Suite("systemd units", .enabled(if: HostSupport.hasBuild && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                                 "needs a built viridian and systemd-analyze (Debian's systemd)"))
struct ServiceUnitTests {
    static let analyzer = "/usr/bin/systemd-analyze"

    @Test("the units install.sh writes load cleanly in systemd-analyze verify, pointed at the built binaries")
    func unitsVerify() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-units-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var units: [String] = []
        for unit in ["viridiand.service", "viridian-guests.service"] {
            // The same substitution install.sh makes for its prefix.
            let text = try String(contentsOfFile: "\(BuildProducts.packageRoot)/dist/\(unit)", encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/", with: "\(BuildProducts.directory)/")
            try text.write(toFile: "\(folder)/\(unit)", atomically: true, encoding: .utf8)
            units.append("\(folder)/\(unit)")
        }
        let verify = await TestDaemon.run(Self.analyzer, ["verify"] + units)
        #expect(verify.exitCode == 0, "systemd-analyze verify: \(verify.output) \(verify.error)")
        #expect(!verify.error.contains(folder), "systemd-analyze found something to say about the units: \(verify.error)")
    }
}
