import APITypes
import Foundation

/// Named points where a fault-injection test makes viridiand die, as a crash or a power cut would:
/// `VIRIDIAN_FAILPOINTS=exit-after-commit,…`. Unset in production, where every point is a no-op.
/// The points: `source-exit-after-plan`, `source-exit-mid-stream`, `source-exit-after-commit`,
/// `destination-exit-at-keepalive`, `exit-after-commit` (the destination, once the VM is stored),
/// `destination-lose-commit-reply`; checkpoints: `checkpoint-exit-after-store` (stored, not yet over the
/// running disks), `merge-exit-before-pivot` (a live merge stored and in step, not yet pivoted); backups:
/// `backup-exit-after-copy` (every disk copied, the point not yet in the chain).
package enum Failpoints {
    private static let enabled = Set((ProcessInfo.processInfo.environment["VIRIDIAN_FAILPOINTS"] ?? "")
        .split(separator: ",").map(String.init))

    /// Ends the process at once (no clean-up, no answer to anyone) when `name` is enabled.
    package static func crash(at name: String) {
        guard enabled.contains(name) else { return }
        FileHandle.standardError.write(Data("viridiand: failpoint \(name): exiting\n".utf8))
        _exit(86)
    }

    /// Throws where a request's answer is lost on the way (the work is done, the caller hears an error).
    package static func fail(at name: String) throws {
        guard enabled.contains(name) else { return }
        throw ViridianError(.internalError, "failpoint \(name): the answer is lost")
    }
}
