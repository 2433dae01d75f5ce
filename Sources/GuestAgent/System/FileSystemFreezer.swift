import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Freezes and thaws the guest's writable block file systems (FIFREEZE / FITHAW).
enum FileSystemFreezer {
    private static let freezeRequest: UInt = 0xC004_5877
    private static let thawRequest: UInt = 0xC004_5878

    /// Mount points of writable file systems on block devices, from `/proc/mounts`.
    static func freezableMountPoints() -> [String] {
        let text = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var seen = Set<String>()
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[0].hasPrefix("/dev/"),
                  fields[3].split(separator: ",").first == "rw",
                  !["iso9660", "squashfs", "udf"].contains(String(fields[2])) else { return nil }
            let mountPoint = String(fields[1]).split(separator: "\\040", omittingEmptySubsequences: false).joined(separator: " ")
            return seen.insert(mountPoint).inserted ? mountPoint : nil
        }
    }

    /// Freezes every mount point in order; on a failure thaws what it froze and throws.
    static func freeze(_ mountPoints: [String]) throws(SystemError) {
        var frozen: [String] = []
        for mountPoint in mountPoints {
            do {
                try apply(freezeRequest, to: mountPoint, operation: "freeze")
                frozen.append(mountPoint)
            } catch {
                _ = thaw(frozen)
                throw error
            }
        }
    }

    /// Thaws every mount point (in reverse order); returns those that thawed.
    @discardableResult
    static func thaw(_ mountPoints: [String]) -> [String] {
        mountPoints.reversed().filter { (try? apply(thawRequest, to: $0, operation: "thaw")) != nil }
    }

    private static func apply(_ request: UInt, to mountPoint: String, operation: String) throws(SystemError) {
        let fd = open(mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(operation: "open \(mountPoint)", code: errno) }
        defer { close(fd) }
        guard ioctl(fd, request, 0) == 0 else { throw SystemError(operation: "\(operation) \(mountPoint)", code: errno) }
    }
}
