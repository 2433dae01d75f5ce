import APITypes
import Foundation
import HostTools
import Logging

/// The files of a built test guest.
public struct TestGuestFiles: Sendable, Codable {
    public var kernel: String
    public var initrd: String
    /// The root disk (qcow2); VMs get differencing children of it.
    public var disk: String
    public var append: String
    public var kernelPackage: String
}

/// Builds the test guest from Debian packages only: Debian's cloud kernel (`apt-get download`,
/// `dpkg-deb -x`, `depmod`), a busybox initramfs with the virtio modules, and an ext4 root disk
/// made without mounting (`mkfs.ext4 -d`). Each build lands in its own folder keyed by the recipe
/// and kernel version and is never changed afterwards, so VMs' differencing disks stay valid.
public struct TestGuestBuilder: Sendable {
    public let cacheDirectory: String
    let logger: Logger

    public init(cacheDirectory: String, logger: Logger) {
        self.cacheDirectory = cacheDirectory
        self.logger = logger
    }

    /// Returns the cached build for the current kernel and `agent`, building it first if needed.
    /// `progress` receives a percent and a short description of each step.
    public func build(agent: TestGuestAgent,
                      progress: @escaping @Sendable (Int, String) -> Void) async throws -> TestGuestFiles {
        let tools = try Tools()
        progress(2, "finding the Debian cloud kernel")
        let package = try await kernelPackage()
        let output = "\(cacheDirectory)/test-guest/r\(TestGuestRecipe.version)-\(package)-\(try agent.cacheTag())"
        if let cached = Self.readManifest(output) { return cached }
        try FileManager.default.createDirectory(atPath: "\(cacheDirectory)/test-guest", withIntermediateDirectories: true)
        let lock = try await CacheLock.acquire("\(cacheDirectory)/test-guest/.lock")
        defer { lock.release() }
        if let cached = Self.readManifest(output) { return cached }

        let work = "\(cacheDirectory)/test-guest/.build-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        progress(10, "downloading \(package)")
        let deb = try await download(package, into: "\(cacheDirectory)/downloads")
        progress(35, "unpacking the kernel")
        try await HostCommand.check(tools.dpkgDeb, ["-x", deb, "\(work)/kernel"], purpose: "unpacking \(package)")
        let version = try kernelVersion(in: "\(work)/kernel")
        try await HostCommand.check(tools.depmod, ["-b", "\(work)/kernel", version], purpose: "indexing kernel modules")

        progress(50, "assembling the initramfs")
        let root = "\(work)/initramfs"
        try await InitramfsLayout(root: root, busybox: tools.busybox)
            .assemble(kernelTree: "\(work)/kernel", kernelVersion: version)
        progress(52, "adding network tools")
        for tool in TestGuestRecipe.networkTools {
            let path = try HostExecutable.locate(tool.path, package: tool.package)
            try await HostBinaryCopier(root: root).install(path, at: tool.path, package: tool.package)
        }
        switch agent {
        case .viridian(let bundle):
            try InitramfsLayout(root: root, busybox: tools.busybox).installAgent(bundle)
        case .qemuGuestAgent:
            progress(55, "adding Debian's qemu-guest-agent")
            let deb = try await download(QemuGuestAgentInstaller.package, into: "\(cacheDirectory)/downloads")
            try await QemuGuestAgentInstaller(root: root, dpkgDeb: tools.dpkgDeb).install(deb: deb, work: work)
        }
        try FileManager.default.createDirectory(atPath: "\(work)/out", withIntermediateDirectories: true)
        try await HostCommand.check("/bin/sh", ["-c", "cd \"$0\" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1 > \"$1\"",
                                                root, "\(work)/out/initrd.img"], purpose: "packing the initramfs")

        progress(75, "making the root disk")
        try await makeRootDisk(tools: tools, work: work, package: package)

        progress(95, "storing the image")
        try FileManager.default.copyItem(atPath: "\(work)/kernel/boot/vmlinuz-\(version)", toPath: "\(work)/out/vmlinuz")
        let files = TestGuestFiles(kernel: "\(output)/vmlinuz", initrd: "\(output)/initrd.img", disk: "\(output)/root.qcow2",
                                   append: TestGuestRecipe.append, kernelPackage: package)
        try JSONEncoder().encode(files).write(to: URL(fileURLWithPath: "\(work)/out/manifest.json"))
        try? FileManager.default.removeItem(atPath: output)
        try FileManager.default.moveItem(atPath: "\(work)/out", toPath: output)
        logger.info("test guest built", metadata: ["kernel": "\(package)", "path": "\(output)"])
        return files
    }

    private func makeRootDisk(tools: Tools, work: String, package: String) async throws {
        let tree = "\(work)/rootfs"
        try FileManager.default.createDirectory(atPath: "\(tree)/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(tree)/data", withIntermediateDirectories: true)
        try "Viridian test guest, recipe \(TestGuestRecipe.version), \(package)\n"
            .write(toFile: "\(tree)/etc/viridian-release", atomically: true, encoding: .utf8)
        // Inode tables and journal initialised now, not by the guest kernel's ext4lazyinit over its first
        // minutes (megabytes of writes no test asked for, which an incremental backup would rightly carry).
        try await HostCommand.check(tools.mkfs, ["-q", "-F", "-L", "viridian-root", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                                                 "-d", tree, "\(work)/root.raw", "256M"],
                                    purpose: "making the root file system")
        try await HostCommand.check(tools.qemuImg, ["convert", "-q", "-f", "raw", "-O", "qcow2", "\(work)/root.raw",
                                                    "\(work)/out/root.qcow2"], purpose: "converting the root disk to qcow2")
    }

    /// The versioned kernel package the cloud metapackage depends on (`linux-image-6.1.0-56-cloud-amd64`).
    private func kernelPackage() async throws -> String {
        let output = try await HostCommand.run("apt-cache", ["depends", TestGuestRecipe.kernelMetapackage])
        let dependency = output.standardOutput.split(separator: "\n")
            .compactMap { line -> String? in
                let trimmed = String(line).trimmingWhitespace()
                guard trimmed.hasPrefix("Depends: linux-image-") else { return nil }
                return String(trimmed.dropFirst("Depends: ".count))
            }.first
        guard output.exitCode == 0, let dependency else {
            throw ViridianError(.missingDependency,
                                "apt does not know \(TestGuestRecipe.kernelMetapackage); run: apt-get update")
        }
        return dependency
    }

    private func download(_ package: String, into directory: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func existing() -> String? {
            (try? FileManager.default.contentsOfDirectory(atPath: directory))?
                .first { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }
                .map { "\(directory)/\($0)" }
        }
        if let deb = existing() { return deb }
        try await HostCommand.check("apt-get", ["download", "-q", package], purpose: "downloading \(package)",
                                    workingDirectory: directory, timeout: .seconds(1800))
        guard let deb = existing() else {
            throw ViridianError(.engineFailure, "apt-get download left no .deb for \(package) in \(directory)")
        }
        return deb
    }

    private func kernelVersion(in tree: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "\(tree)/lib/modules")) ?? []
        guard let version = versions.first else {
            throw ViridianError(.engineFailure, "the kernel package has no lib/modules folder")
        }
        return version
    }

    private static func readManifest(_ directory: String) -> TestGuestFiles? {
        guard let data = FileManager.default.contents(atPath: "\(directory)/manifest.json"),
              let files = try? JSONDecoder().decode(TestGuestFiles.self, from: data),
              [files.kernel, files.initrd, files.disk].allSatisfy(FileManager.default.fileExists(atPath:))
        else { return nil }
        return files
    }

    /// The host programs a build needs, each with the package that provides it.
    private struct Tools {
        let dpkgDeb: String, depmod: String, busybox: String, mkfs: String, qemuImg: String

        init() throws {
            dpkgDeb = try HostExecutable.locate("dpkg-deb", package: "dpkg")
            depmod = try HostExecutable.locate("depmod", package: "kmod")
            _ = try HostExecutable.locate("cpio", package: "cpio")
            mkfs = try HostExecutable.locate("mkfs.ext4", package: "e2fsprogs")
            qemuImg = try HostExecutable.locate("qemu-img", package: "qemu-utils")
            busybox = try HostExecutable.locate("/bin/busybox", package: "busybox-static")
        }
    }
}
