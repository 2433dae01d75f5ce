import APITypes
import Foundation

/// A host block device a VM may take whole (a pass-through disk): what the kernel says of it,
/// from `/sys/dev/block` and `/proc/self/mountinfo` — nothing on the device is read.
public struct PassThroughDevice: Sendable, Equatable {
    public let path: String
    /// `major:minor`, which names the device whatever path (a `/dev/disk/by-id` link) the administrator gave.
    public let number: String
    /// The kernel's name for it (`loop0`, `sdb`).
    public let kernelName: String

    /// The device at `path`, which must be an absolute path to a block device with a medium.
    public init(_ path: String) throws {
        guard path.hasPrefix("/") else { throw ViridianError(.invalidArgument, "device paths must be absolute: '\(path)'") }
        var status = stat()
        guard stat(path, &status) == 0 else { throw ViridianError(.notFound, "no device at \(path)") }
        guard status.st_mode & S_IFMT == S_IFBLK else {
            throw ViridianError(.invalidArgument, "\(path) is not a block device; a pass-through disk is a host disk such as /dev/sdb"
                                + " (attach a disk file without --pass-through)")
        }
        self.path = path
        number = Self.number(UInt64(status.st_rdev))
        let sysfs = "/sys/dev/block/\(number)"
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: sysfs) else {
            throw ViridianError(.invalidArgument, "\(path) (device \(number)) is not in /sys/dev/block; the kernel does not list it as a disk")
        }
        kernelName = (link as NSString).lastPathComponent
        guard let sectors = Self.read("\(sysfs)/size").flatMap(UInt64.init) else {
            throw ViridianError(.internalError, "cannot read the size of \(path) from \(sysfs)/size")
        }
        guard sectors > 0 else { throw ViridianError(.invalidArgument, "\(path) has no medium (its size is 0)") }
    }

    /// Refuses a device the host itself uses: mounted (it or one of its partitions), a swap area, or
    /// held by the device mapper or RAID. The mount table and holders only name the user; the kernel's
    /// exclusive open is the last word, so an unreadable sysfs entry cannot let a used device through.
    public func requireUnusedByHost() throws {
        let members = [number] + partitionNumbers
        if let mount = Self.mounts().first(where: { members.contains($0.number) }) {
            throw ViridianError(.conflict, "\(path) is mounted on the host at \(mount.point); unmount it before giving it to a VM")
        }
        for member in members {
            let holders = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/dev/block/\(member)/holders")) ?? []
            if !holders.isEmpty {
                throw ViridianError(.conflict, "\(path) is in use on the host by \(holders.sorted().joined(separator: ", ")) (device mapper or RAID)")
            }
        }
        let descriptor = open(path, O_RDONLY | O_EXCL | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == EBUSY { throw ViridianError(.conflict, "\(path) is in use on the host (mounted, swap, or held by the kernel)") }
            throw ViridianError(.invalidArgument, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    /// The `major:minor` numbers of the device's partitions.
    private var partitionNumbers: [String] {
        let directory = "/sys/class/block/\(kernelName)"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { FileManager.default.fileExists(atPath: "\(directory)/\($0)/partition") }
            .compactMap { Self.read("\(directory)/\($0)/dev") }
    }

    /// Each mount of the host's mount namespace: the device number and the mount point.
    private static func mounts() -> [(number: String, point: String)] {
        (read("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            return (String(fields[2]), String(fields[4]))
        }
    }

    /// `major:minor` of a device number, as glibc's `major()` and `minor()` split it (macros Swift does not import).
    static func number(_ device: UInt64) -> String {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return "\(major):\(minor)"
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
