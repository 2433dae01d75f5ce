import Foundation

/// Named points where a fault-injection test makes viridiand die, as a crash or a power cut would:
/// `VIRIDIAN_FAILPOINTS=exit-after-commit,…`. Unset in production, where every point is a no-op.
enum Failpoints {
    private static let enabled = Set((ProcessInfo.processInfo.environment["VIRIDIAN_FAILPOINTS"] ?? "")
        .split(separator: ",").map(String.init))

    /// Ends the process at once (no clean-up, no answer to anyone) when `name` is enabled.
    static func crash(at name: String) {
        guard enabled.contains(name) else { return }
        FileHandle.standardError.write(Data("viridiand: failpoint \(name): exiting\n".utf8))
        _exit(86)
    }
}
