import APITypes

/// Whether a running guest may keep running while QEMU copies its memory to another host.
///
/// QEMU before 9.0 loses writes a TCG guest makes during the copy: syncing the migration dirty
/// bitmap left TCG's TLB entries writable without marking pages dirty again, so pages written after
/// they were sent are never sent again and the guest on the destination runs on stale memory
/// (fixed upstream in 9.0 by "physmem: Fix migration dirty bitmap coherency with TCG memory access").
/// KVM tracks dirty pages in the kernel and is not affected.
public enum MemoryCopyRule {
    /// The reason the guest must be paused for the copy, or nil when it may keep running.
    public static func pauseReason(accelerator: Accelerator, qemuVersion: String) -> String? {
        guard accelerator == .tcg, let version = QEMUVersionNumber(qemuVersion), version.major < 9 else { return nil }
        return "QEMU \(version.major).\(version.minor) under TCG loses guest writes during a live memory copy (fixed in QEMU 9.0)"
    }
}

/// The major and minor numbers of `QEMU emulator version 7.2.22 (Debian …)`.
public struct QEMUVersionNumber: Sendable, Equatable {
    public let major: Int
    public let minor: Int

    public init?(_ versionLine: String) {
        guard let range = versionLine.range(of: "version ") else { return nil }
        let numbers = versionLine[range.upperBound...].prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard numbers.count >= 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
        self.major = major
        self.minor = minor
    }
}
