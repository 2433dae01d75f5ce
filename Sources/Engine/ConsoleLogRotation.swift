import Foundation

/// Keeps a VM's console log bounded. QEMU appends the guest's serial output to the log itself
/// (`logappend=on` opens it `O_APPEND`), so a log over its cap is copied to `.1` (older copies
/// shift to `.2`, …; the oldest goes) and then truncated in place: QEMU's next write lands at the
/// new end. A guest printing without pause costs at most `maxBytes × (generations + 1)` on the host.
public enum ConsoleLogRotation {
    /// The size at which the log rotates.
    public static let maxBytes: UInt64 = 8 << 20
    /// Rotated copies kept beside the log.
    public static let generations = 3

    /// Rotates the log at `path` when it is larger than `maxBytes`; true when it did.
    @discardableResult
    public static func rotateIfNeeded(_ path: String, maxBytes: UInt64 = maxBytes, generations: Int = generations) throws -> Bool {
        let manager = FileManager.default
        guard let size = (try? manager.attributesOfItem(atPath: path))?[.size] as? UInt64, size > maxBytes else { return false }
        try? manager.removeItem(atPath: "\(path).\(generations)")
        for generation in stride(from: generations - 1, through: 1, by: -1) where manager.fileExists(atPath: "\(path).\(generation)") {
            try manager.moveItem(atPath: "\(path).\(generation)", toPath: "\(path).\(generation + 1)")
        }
        if generations > 0 { try manager.copyItem(atPath: path, toPath: "\(path).1") }
        guard truncate(path, 0) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "truncate failed: errno \(errno)"])
        }
        return true
    }

    /// The log and its rotated copies that exist, oldest first.
    public static func files(_ path: String, generations: Int = generations) -> [String] {
        (stride(from: generations, through: 1, by: -1).map { "\(path).\($0)" } + [path])
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The last `count` bytes of the log across its rotated copies.
    public static func tail(_ path: String, count: Int, generations: Int = generations) throws -> [UInt8] {
        var collected: [UInt8] = []
        for file in files(path, generations: generations).reversed() where collected.count < count {
            guard let handle = FileHandle(forReadingAtPath: file) else { continue }
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            let wanted = UInt64(count - collected.count)
            try handle.seek(toOffset: size > wanted ? size - wanted : 0)
            collected = Array(try handle.readToEnd() ?? Data()) + collected
        }
        return collected
    }
}
