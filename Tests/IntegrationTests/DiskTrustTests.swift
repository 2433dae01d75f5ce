import APIClient
import APITypes
import Foundation
import Testing

/// Disk formats are facts recorded when a disk is created or first named, never guesses from a file a
/// guest may have written; parents are protected; host files that are no disk images are refused.
/// Through the real daemon, CLI and qemu-img (no guest needs to boot: the test writes what a guest could).
@Suite("Disks as recorded facts", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct DiskTrustTests {
    static let secret = "CANARY-HOST-SECRET-0123456789"

    @Test("a guest-written qcow2 header in a raw disk is never followed; parents are protected; decoys are no disks")
    func hostileRawDisk() async throws {
        try await TestDaemon.with { daemon in
            let folder = "\(daemon.stateDirectory)/trust"
            try FileManager.default.createDirectory(atPath: "\(folder)/moved", withIntermediateDirectories: true)
            let canary = "\(folder)/canary-host-file"
            try Data((Self.secret + "\n").utf8).write(to: URL(fileURLWithPath: canary))

            try await daemon.createTestVM("trust1")
            let data = "\(folder)/data.img"
            let new = await daemon.cli(["vhd", "new", data, "--size", "16M"])
            #expect(new.exitCode == 0, "\(new.error)")
            #expect(await daemon.cli(["vm", "disk", "add", "trust1", data]).exitCode == 0)

            // What the guest can do to its raw disk: fill the first sectors with a qcow2 header naming a host file.
            let header = "\(folder)/header.qcow2"
            let made = await TestDaemon.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", canary, "-F", "raw", header])
            #expect(made.exitCode == 0, "\(made.error)")
            let handle = try #require(FileHandle(forWritingAtPath: data))
            try handle.write(contentsOf: try Data(contentsOf: URL(fileURLWithPath: header)))
            try handle.close()

            let shown = await daemon.cli(["vhd", "show", data, "--json"])
            #expect(shown.exitCode == 0, "\(shown.error)")
            let info = try WireJSON.decoder().decode(VHDInfo.self, from: Data(shown.output.utf8))
            #expect(info.format == .raw && info.parentPath == nil && info.sizeBytes == 16 << 20, "\(shown.output)")
            #expect(!shown.output.contains(canary), "nothing reports the host file as a parent")

            let merge = await daemon.cli(["vhd", "merge", data])
            #expect(merge.exitCode != 0 && merge.error.contains("not a differencing disk"), "\(merge.error)")

            let converted = "\(folder)/converted.qcow2"
            #expect(await daemon.cli(["vhd", "convert", data, converted]).exitCode == 0)
            try await expectNoSecret(in: converted, what: "vhd convert")

            // Parent protection: the test guest's base disk has the VM's root disk (and now another disk) as children.
            let base = try #require(try await daemon.client.images().first { $0.name == "test-guest" }?.disk)
            let child = "\(folder)/child.qcow2"
            #expect(await daemon.cli(["vhd", "new", child, "--parent", base]).exitCode == 0)
            let mergeIntoBase = await daemon.cli(["vhd", "merge", child])
            #expect(mergeIntoBase.exitCode != 0 && mergeIntoBase.error.contains("parent of"), "\(mergeIntoBase.error)")
            let resizeBase = await daemon.cli(["vhd", "resize", base, "--size", "4G"])
            #expect(resizeBase.exitCode != 0 && resizeBase.error.contains("parent of"), "\(resizeBase.error)")
            let attachBase = await daemon.cli(["vm", "disk", "add", "trust1", base])
            #expect(attachBase.exitCode != 0 && attachBase.error.contains("attached writable"), "\(attachBase.error)")

            let moved = await daemon.cli(["vm", "move-storage", "trust1", "--destination-path", "\(folder)/moved"])
            #expect(moved.exitCode == 0, "\(moved.error)")
            let vm = try await daemon.client.vm("trust1")
            let movedData = try #require(vm.drives.first { $0.path?.hasSuffix("data.img") == true }?.path)
            #expect(movedData == "\(folder)/moved/data.img")
            let root = try #require(vm.drives.first?.path)
            #expect(root.hasPrefix("\(folder)/moved/"), "the root disk moved (flattened) too")
            try await expectNoSecret(in: movedData, what: "vm move-storage")
            #expect(try await daemon.json(VHDInfo.self, ["vhd", "show", movedData]).format == .raw)

            // A qcow2 named .img (as cloud images are) attaches as qcow2.
            let cloud = "\(folder)/cloud.img"
            #expect(await TestDaemon.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", cloud, "32M"]).exitCode == 0)
            let cloudAdd = await daemon.cli(["vm", "disk", "add", "trust1", cloud])
            #expect(cloudAdd.exitCode == 0, "\(cloudAdd.error)")
            #expect(try await daemon.json(VHDInfo.self, ["vhd", "show", cloud]).format == .qcow2)

            // Host files that are no disk images: refused with the reason, and untouched.
            let notes = "\(folder)/notes.txt"
            try Data("not a disk\n".utf8).write(to: URL(fileURLWithPath: notes))
            let fifo = "\(folder)/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            let link = "\(folder)/link-to-notes"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: notes)
            for (decoy, reason) in [(notes, "--format raw"), (link, "--format raw"), (fifo, "FIFO"), (folder, "directory"),
                                    ("/dev/null", "character device")] {
                let add = await daemon.cli(["vm", "disk", "add", "trust1", decoy])
                #expect(add.exitCode != 0 && add.error.contains(reason), "\(decoy): \(add.error)")
                let resize = await daemon.cli(["vhd", "resize", decoy, "--size", "32M"])
                #expect(resize.exitCode != 0, "\(decoy) was resized")
            }
            #expect(try String(contentsOfFile: notes, encoding: .utf8) == "not a disk\n", "a refused file is unchanged")

            // Remove deletes only what Viridian created for the VM; attached files and parents stay.
            #expect(await daemon.cli(["vm", "remove", "trust1", "--delete-disks"]).exitCode == 0)
            #expect(!FileManager.default.fileExists(atPath: movedData) && !FileManager.default.fileExists(atPath: root))
            #expect(FileManager.default.fileExists(atPath: cloud), "an attached file is not Viridian's to delete")
            #expect(FileManager.default.fileExists(atPath: base) && FileManager.default.fileExists(atPath: child))
        }
    }

    @Test("vm remove --delete-disks keeps attached disks; --delete-attached-disks deletes them")
    func deleteAttachedDisks() async throws {
        try await TestDaemon.with { daemon in
            let folder = "\(daemon.stateDirectory)/attached"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let attached = "\(folder)/made-elsewhere.qcow2"
            let made = await TestDaemon.run("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", attached, "16M"])
            try #require(made.exitCode == 0, "\(made.error)")
            let created = "\(folder)/made-here.vhdx"
            #expect(await daemon.cli(["vhd", "new", created, "--size", "16M"]).exitCode == 0)
            for name in ["att1", "att2"] {
                #expect(await daemon.cli(["vm", "create", name, "--memory", "64M", "--network", "none"]).exitCode == 0)
            }
            #expect(await daemon.cli(["vm", "disk", "add", "att1", attached]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "att1", created]).exitCode == 0)
            #expect(await daemon.cli(["vm", "remove", "att1", "--delete-disks"]).exitCode == 0)
            #expect(FileManager.default.fileExists(atPath: attached), "--delete-disks deletes only what Viridian created")
            #expect(!FileManager.default.fileExists(atPath: created), "a vhd new disk is Viridian's")

            #expect(await daemon.cli(["vm", "disk", "add", "att2", attached]).exitCode == 0)
            #expect(await daemon.cli(["vm", "remove", "att2", "--delete-attached-disks"]).exitCode == 0)
            #expect(!FileManager.default.fileExists(atPath: attached), "--delete-attached-disks deletes an attached disk")
        }
    }

    /// Flattens `path` to raw through qemu-img with its known format and checks the canary's bytes are not in it.
    private func expectNoSecret(in path: String, what: String) async throws {
        let flat = path + ".flat"
        defer { try? FileManager.default.removeItem(atPath: flat) }
        let format = path.hasSuffix(".qcow2") ? "qcow2" : "raw"
        let flatten = await TestDaemon.run("/usr/bin/qemu-img", ["convert", "-f", format, "-O", "raw", path, flat])
        try #require(flatten.exitCode == 0, "flattening \(path): \(flatten.error)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: flat))
        #expect(bytes.range(of: Data(Self.secret.utf8)) == nil, "\(what) copied the host file's bytes into \(path)")
    }

    @Test("a VHDX with a log a crash left unreplayed gets a message naming vhd repair, and vhd repair replays it")
    func unreplayedVHDXLog() async throws {
        try await TestDaemon.with { daemon in
            let folder = "\(daemon.stateDirectory)/repair"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let dirty = "\(folder)/crashed.vhdx"
            try #require(try await Self.makeVHDXWithUnreplayedLog(dirty), "qemu-io killed mid-write 60 times never left a dirty log")

            let show = await daemon.cli(["vhd", "show", dirty])
            #expect(show.exitCode == 5 && show.error.contains("log must be replayed") && show.error.contains("viridian vhd repair \(dirty)"),
                    "\(show.exitCode) \(show.error)")
            let repair = await daemon.cli(["vhd", "repair", dirty, "--json"])
            #expect(repair.exitCode == 0, "\(repair.error)")
            let report = try WireJSON.decoder().decode(VHDRepairReport.self, from: Data(repair.output.utf8))
            #expect(report.format == .vhdx && report.logReplayed && report.corruptionsLeft == 0 && report.leaksLeft == 0, "\(report)")
            #expect(await daemon.cli(["vhd", "show", dirty]).exitCode == 0, "after the replay the disk opens")
            let written = await TestDaemon.run("/usr/bin/qemu-io", ["-f", "vhdx", "-r", "-c", "read -P 0x5a 0 4k", dirty])
            #expect(written.exitCode == 0 && !written.output.contains("Pattern verification failed"), "the replayed writes are there: \(written.output)")

            let clean = await daemon.cli(["vhd", "repair", dirty])
            #expect(clean.exitCode == 0 && clean.output.contains("Log replayed") && clean.output.contains("no"), "\(clean.output)")
            let vhd = "\(folder)/old.vhd"
            #expect(await daemon.cli(["vhd", "new", vhd, "--size", "16M"]).exitCode == 0)
            let unsupported = await daemon.cli(["vhd", "repair", vhd])
            #expect(unsupported.exitCode == 1 && unsupported.error.contains("cannot check or repair VHD"), "\(unsupported.error)")
        }
    }

    /// Kills `qemu-io` in the middle of block allocations (each goes through the VHDX log) until a
    /// kill lands between a log write and its replay, as a host crash under Hyper-V does. About
    /// four kills in ten do; the wait for the first write is an event (the file grows), not a delay.
    static func makeVHDXWithUnreplayedLog(_ path: String) async throws -> Bool {
        let template = path + ".template"
        let made = await TestDaemon.run("/usr/bin/qemu-img", ["create", "-q", "-f", "vhdx", "-o", "block_size=1M", template, "2G"])
        try #require(made.exitCode == 0, "\(made.error)")
        defer { try? FileManager.default.removeItem(atPath: template) }
        let initial = try FileManager.default.attributesOfItem(atPath: template)[.size] as? Int ?? 0
        let writes = (0..<1500).flatMap { ["-c", "write -P 0x5a \($0)M 4k"] }
        for attempt in 0..<60 {
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: template, toPath: path)
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-io")
            writer.arguments = ["-f", "vhdx"] + writes + [path]
            writer.standardOutput = FileHandle.nullDevice
            writer.standardError = FileHandle.nullDevice
            try writer.run()
            // Let it allocate a few blocks (and, on later attempts, a few more), then kill it.
            let target = initial + (3 + attempt % 7) << 20
            let deadline = ContinuousClock.now + .seconds(20)
            while writer.isRunning, ContinuousClock.now < deadline,
                  (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0) < target {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
            let info = await TestDaemon.run("/usr/bin/qemu-img", ["info", "-U", path])
            if info.error.contains("needs to be replayed") { return true }
        }
        return false
    }
}
