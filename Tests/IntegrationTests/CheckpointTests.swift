import APIClient
import APITypes
import Foundation
import Testing

/// Checkpoints with the real test guest: production and standard checkpoints of a running VM, apply
/// (memory comes back with a standard one), branches, and removal that merges the images live until
/// the VM is back on its own disk; and the refusals and offline paths of an Off VM.
@Suite("Checkpoints", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct CheckpointTests {
    @Test("a running VM: production and standard checkpoints, export and import, apply keeps branches, removal merges live back onto the VM's disk",
          .guests(2))
    func runningVM() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("cpt")
            let rootDisk = try #require(try await daemon.client.vm("cpt").drives.first(where: { $0.kind == .hardDisk })?.path)
            // A raw data disk beside the qcow2 root disk (the Off VM test has a VHDX one): checkpoints work above every format.
            let dataDisk = "\(daemon.stateDirectory)/data.raw"
            #expect(await daemon.cli(["vhd", "new", dataDisk, "--size", "64M", "--format", "raw"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "cpt", dataDisk]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
            try await daemon.waitForIntegration("cpt")
            try await mark(daemon, disk: "one", memory: "mem-one")

            let first = await daemon.cli(["vm", "checkpoint", "cpt", "--name", "first"])
            #expect(first.exitCode == 0 && first.output.contains("Production"), "\(first.output)\(first.error)")
            var tree = try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpt"])
            #expect(tree.map(\.name) == ["first"] && tree.first?.type == .production && tree.first?.isCurrent == true, "\(tree)")
            #expect(try await daemon.client.vm("cpt").drives.first?.path != rootDisk, "the VM runs on an overlay now")
            let duplicate = await daemon.cli(["vm", "checkpoint", "cpt", "--name", "FIRST"])
            #expect(duplicate.exitCode != 0 && duplicate.error.contains("already"), "\(duplicate.error)")
            let held = await daemon.cli(["vhd", "resize", rootDisk, "--size", "2G"])
            #expect(held.exitCode != 0 && held.error.contains("cannot be resized"), "the image a checkpoint holds is not changed: \(held.error)")

            try await mark(daemon, disk: "two", memory: "mem-two")
            #expect(await daemon.cli(["vm", "set", "cpt", "--checkpoint-type", "standard"]).exitCode == 0)
            let second = await daemon.cli(["vm", "checkpoint", "cpt", "--name", "second"])
            #expect(second.exitCode == 0 && second.output.contains("Standard"), "\(second.output)\(second.error)")
            // Exported, the standard checkpoint is a VM of its own: imported and started, it resumes at that moment.
            let exports = "\(daemon.stateDirectory)/exports"
            try FileManager.default.createDirectory(atPath: exports, withIntermediateDirectories: true)
            let exported = await daemon.cli(["vm", "checkpoint", "export", "cpt", "second", exports])
            #expect(exported.exitCode == 0, "\(exported.error)")
            let again = await daemon.cli(["vm", "checkpoint", "export", "cpt", "second", exports])
            #expect(again.exitCode != 0 && again.error.contains("exists already"), "an export never overwrites: \(again.error)")
            let imported = try await daemon.json(VMInfo.self, ["vm", "import", "\(exports)/cpt", "--name", "cpt-copy"])
            #expect(imported.state == .saved && imported.drives.filter { $0.kind == .hardDisk }.allSatisfy { $0.path?.hasPrefix("\(exports)/cpt/") == true },
                    "\(imported)")
            #expect(imported.networkAdapters.map(\.macAddress) != (try await daemon.client.vm("cpt").networkAdapters.map(\.macAddress)),
                    "the copy gets its own MAC addresses")
            #expect(await daemon.cli(["vm", "start", "cpt-copy"]).exitCode == 0)
            try await daemon.waitForIntegration("cpt-copy")
            #expect(await read(daemon, vm: "cpt-copy") == ["two", "mem-two", "two"], "the copy is the VM at 'second'")
            #expect(await daemon.cli(["vm", "stop", "cpt-copy", "--turn-off"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "remove", "cpt-copy"]).exitCode == 0)

            try await mark(daemon, disk: "three", memory: "mem-three")

            // A standard checkpoint comes back with its memory: the VM is Saved at that moment.
            let applySecond = await daemon.cli(["vm", "checkpoint", "apply", "cpt", "second"])
            #expect(applySecond.exitCode == 0, "\(applySecond.error)")
            #expect(try await daemon.client.vm("cpt").state == .saved)
            #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
            try await daemon.waitForIntegration("cpt")
            #expect(await read(daemon) == ["two", "mem-two", "two"], "the disks and the guest's memory are those of 'second'")

            // A production checkpoint comes back Off, and the guest boots with the disk of that moment.
            #expect(await daemon.cli(["vm", "checkpoint", "apply", "cpt", "first"]).exitCode == 0)
            #expect(try await daemon.client.vm("cpt").state == .off)
            #expect(await daemon.cli(["vm", "set", "cpt", "--checkpoint-type", "production"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
            try await daemon.waitForIntegration("cpt")
            let atFirst = await read(daemon)
            #expect(atFirst.first == "one" && atFirst.last == "one", "the disks are those of 'first': \(atFirst)")
            try await mark(daemon, disk: "four", memory: "mem-four")
            #expect(await daemon.cli(["vm", "checkpoint", "cpt", "--name", "third"]).exitCode == 0)
            tree = try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpt"])
            let parents = Dictionary(uniqueKeysWithValues: tree.map { ($0.name, $0.parent ?? "-") })
            #expect(parents == ["first": "-", "second": "first", "third": "first"], "two branches from 'first': \(tree)")
            #expect(tree.filter(\.isCurrent).map(\.name) == ["third"])

            // Removing checkpoints while the guest runs and writes: what nothing needs is merged until
            // the VM is back on its own disk, and the guest sees its data throughout.
            try await daemon.startDirtying("cpt")
            for name in ["first", "third", "second"] {
                let removed = await daemon.cli(["vm", "checkpoint", "remove", "cpt", name])
                #expect(removed.exitCode == 0, "removing \(name): \(removed.error)")
                try await daemon.expectWriterProgress("cpt")
            }
            #expect(try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpt"]).isEmpty)
            let drives = try await daemon.client.vm("cpt").drives.filter { $0.kind == .hardDisk }.compactMap(\.path)
            #expect(drives == [rootDisk, dataDisk], "the VM is back on its own disks: \(drives)")
            let atEnd = await read(daemon)
            #expect(atEnd.first == "four" && atEnd.last == "four", "\(atEnd)")
            await daemon.expectHealthyKernel("cpt")
            #expect(await daemon.cli(["vm", "stop", "cpt", "--turn-off"]).exitCode == 0)
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", "-f", "qcow2", rootDisk])
            #expect(check.exitCode == 0, "\(check.output)\(check.error)")
            // QEMU saves no memory of a VM with a VHDX disk (the format blocks migration): a standard checkpoint says so.
            let vhdx = "\(daemon.stateDirectory)/more.vhdx"
            #expect(await daemon.cli(["vhd", "new", vhdx, "--size", "16M"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "cpt", vhdx]).exitCode == 0)
            #expect(await daemon.cli(["vm", "set", "cpt", "--checkpoint-type", "standard"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
            let refused = await daemon.cli(["vm", "checkpoint", "cpt"])
            #expect(refused.exitCode != 0 && refused.error.contains("VHDX disks") && refused.error.contains("vhd convert"), "\(refused.error)")
            #expect(try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpt"]).isEmpty, "nothing is left of it")
            #expect(await daemon.cli(["vm", "stop", "cpt", "--turn-off"]).exitCode == 0)
            let id = try await daemon.client.vm("cpt").id
            let left = (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.stateDirectory)/vms/\(id)/checkpoints")) ?? []
            #expect(left.isEmpty, "no checkpoint file is left: \(left)")
        }
    }

    @Test("an Off VM: checkpoints and apply without a worker, refusals with the reason, remove --delete-disks takes the overlays")
    func offVM() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("cpo")
            let rootDisk = try #require(try await daemon.client.vm("cpo").drives.first(where: { $0.kind == .hardDisk })?.path)
            let vhdxDisk = "\(daemon.stateDirectory)/data.vhdx"
            #expect(await daemon.cli(["vhd", "new", vhdxDisk, "--size", "16M"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "cpo", vhdxDisk]).exitCode == 0)
            #expect(await daemon.cli(["vm", "checkpoint", "cpo", "--name", "a"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "checkpoint", "cpo", "--name", "b"]).exitCode == 0)
            var tree = try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpo"])
            #expect(tree.map(\.name) == ["a", "b"] && tree.allSatisfy { $0.type == .production && $0.vmState == .off }, "\(tree)")
            let listed = await daemon.cli(["vm", "checkpoint", "list", "cpo"])
            #expect(listed.output.contains("Now"), "\(listed.output)")

            #expect(await daemon.cli(["vm", "checkpoint", "apply", "cpo", "a"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "checkpoint", "rename", "cpo", "b", "b2"]).exitCode == 0)
            tree = try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpo"])
            #expect(tree.map(\.name) == ["a", "b2"] && tree.first?.isCurrent == true, "\(tree)")

            let remove = await daemon.cli(["vm", "remove", "cpo"])
            #expect(remove.exitCode != 0 && remove.error.contains("checkpoint"), "\(remove.error)")
            let detach = await daemon.cli(["vm", "disk", "remove", "cpo", "--controller-type", "scsi", "--location", "0"])
            #expect(detach.exitCode != 0, "a checkpointed disk is not detached: \(detach.output)")
            let unknown = await daemon.cli(["vm", "checkpoint", "apply", "cpo", "nope"])
            #expect(unknown.exitCode != 0 && unknown.error.contains("no checkpoint 'nope'"), "\(unknown.error)")
            #expect(await daemon.cli(["vm", "set", "cpo", "--checkpoint-type", "disabled"]).exitCode == 0)
            let disabled = await daemon.cli(["vm", "checkpoint", "cpo"])
            #expect(disabled.exitCode != 0 && disabled.error.contains("disabled"), "\(disabled.error)")
            let badType = await daemon.cli(["vm", "set", "cpo", "--checkpoint-type", "sometimes"])
            #expect(badType.exitCode != 0 && badType.error.contains("production-only"), "\(badType.error)")

            // Removing 'a' (the current state hangs from it): its overlay merges into the VM's disk offline.
            #expect(await daemon.cli(["vm", "checkpoint", "remove", "cpo", "a", "--subtree"]).exitCode == 0)
            #expect(try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpo"]).isEmpty)
            let drives = try await daemon.client.vm("cpo").drives.filter { $0.kind == .hardDisk }.compactMap(\.path)
            #expect(drives == [rootDisk, vhdxDisk], "back on its own disks: \(drives)")
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", "-f", "vhdx", vhdxDisk])
            #expect(check.exitCode == 0, "the VHDX the overlay merged into checks clean: \(check.output)\(check.error)")

            let notExport = await daemon.cli(["vm", "import", daemon.stateDirectory])
            #expect(notExport.exitCode != 0 && notExport.error.contains("no finished export"), "\(notExport.error)")
            let exports = "\(daemon.stateDirectory)/exports"
            try FileManager.default.createDirectory(atPath: "\(exports)/evil", withIntermediateDirectories: true)
            let escaping = VMConfiguration(generation: .one, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                           drives: [DriveAttachment(kind: .hardDisk, controllerType: .ide, controllerNumber: 0, location: 0,
                                                                    path: "../../etc/passwd")],
                                           networkAdapters: [], bootOrder: [.hardDisk])
            let hostile = ExportedVM(name: "evil", notes: "", configuration: escaping, diskFormats: ["passwd": .raw], savedState: nil, nvram: nil,
                                     checkpoint: "x")
            try WireJSON.encoder().encode(hostile).write(to: URL(fileURLWithPath: "\(exports)/evil/\(ExportedVM.fileName)"))
            let traversal = await daemon.cli(["vm", "import", "\(exports)/evil"])
            #expect(traversal.exitCode != 0 && traversal.error.contains("not a file name in its folder"), "\(traversal.error)")

            // A Generation 2 VM's UEFI variables are part of its checkpoints.
            #expect(await daemon.cli(["vm", "create", "cpg2", "--generation", "2", "--network", "none"]).exitCode == 0)
            let nvram = "\(daemon.stateDirectory)/vms/\(try await daemon.client.vm("cpg2").id)/nvram.fd"
            let variables = try Data(contentsOf: URL(fileURLWithPath: nvram))
            #expect(await daemon.cli(["vm", "checkpoint", "cpg2", "--name", "uefi"]).exitCode == 0)
            try Data(repeating: 0x5a, count: variables.count).write(to: URL(fileURLWithPath: nvram))
            #expect(await daemon.cli(["vm", "checkpoint", "apply", "cpg2", "uefi"]).exitCode == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: nvram)) == variables, "the UEFI variables are those of the checkpoint")

            #expect(await daemon.cli(["vm", "set", "cpo", "--checkpoint-type", "production"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "checkpoint", "cpo", "--name", "c"]).exitCode == 0)
            let id = try await daemon.client.vm("cpo").id
            #expect(await daemon.cli(["vm", "remove", "cpo", "--delete-disks"]).exitCode == 0)
            #expect(!FileManager.default.fileExists(atPath: rootDisk), "the VM's own disk is deleted")
            #expect(!FileManager.default.fileExists(atPath: vhdxDisk), "a disk vhd new made goes with it, as --delete-disks says")
            #expect(!FileManager.default.fileExists(atPath: "\(daemon.stateDirectory)/vms/\(id)"))
        }
    }

    @Test("a storage move carries the checkpoint tree, live under a guest writer and Off; every checkpoint still applies and merges",
          .guests(1))
    func storageMoveCarriesTree() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("cpt")
            let rootDisk = try #require(try await daemon.client.vm("cpt").drives.first(where: { $0.kind == .hardDisk })?.path)
            let dataDisk = "\(daemon.stateDirectory)/data.vhdx"
            #expect(await daemon.cli(["vhd", "new", dataDisk, "--size", "32M"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "disk", "add", "cpt", dataDisk]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
            try await daemon.waitForIntegration("cpt")
            // Two branches from 'a': 'b' (after mark two), and Now (after mark four, applied from 'a').
            try await mark(daemon, disk: "one", memory: "-")
            #expect(await daemon.cli(["vm", "checkpoint", "cpt", "--name", "a"]).exitCode == 0)
            try await mark(daemon, disk: "two", memory: "-")
            #expect(await daemon.cli(["vm", "checkpoint", "cpt", "--name", "b"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "checkpoint", "apply", "cpt", "a"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
            try await daemon.waitForIntegration("cpt")
            try await mark(daemon, disk: "four", memory: "-")
            let tree = try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpt"])

            // Live: the guest goes on writing; the disks under the tree move, the overlays stay.
            let live = "\(daemon.stateDirectory)/live-folder"
            let off = "\(daemon.stateDirectory)/off-folder"
            for folder in [live, off] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            try await daemon.startDirtying("cpt")
            let moved = await daemon.cli(["vm", "move-storage", "cpt", "--destination-path", live])
            #expect(moved.exitCode == 0 && moved.output.contains("while the VM ran"), "\(moved.output)\(moved.error)")
            try await daemon.expectWriterProgress("cpt")
            let afterLive = await read(daemon)
            #expect(afterLive.first == "four" && afterLive.last == "four", "the guest sees its disks as before: \(afterLive)")
            for file in [rootDisk, dataDisk] {
                let name = URL(fileURLWithPath: file).lastPathComponent
                #expect(!FileManager.default.fileExists(atPath: file) && FileManager.default.fileExists(atPath: "\(live)/\(name)"), "\(name) moved")
            }
            #expect(try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpt"]) == tree, "the tree is as it was")
            await daemon.expectHealthyKernel("cpt")
            #expect(await daemon.cli(["vm", "stop", "cpt"]).exitCode == 0)

            // Off: again, into another folder; then each checkpoint applies and boots with its own disks.
            #expect(await daemon.cli(["vm", "move-storage", "cpt", "--destination-path", off]).exitCode == 0)
            for (checkpoint, want) in [("b", "two"), ("a", "one")] {
                let applied = await daemon.cli(["vm", "checkpoint", "apply", "cpt", checkpoint])
                #expect(applied.exitCode == 0, "\(applied.error)")
                #expect(await daemon.cli(["vm", "start", "cpt"]).exitCode == 0)
                try await daemon.waitForIntegration("cpt")
                let seen = await read(daemon)
                #expect(seen.first == want && seen.last == want, "checkpoint \(checkpoint) after two moves: \(seen)")
                #expect(await daemon.cli(["vm", "stop", "cpt"]).exitCode == 0)
            }
            // Removing them merges into the moved disks: the VM ends on its own disks in the new folder.
            for checkpoint in ["b", "a"] { #expect(await daemon.cli(["vm", "checkpoint", "remove", "cpt", checkpoint]).exitCode == 0) }
            let drives = try await daemon.client.vm("cpt").drives.filter { $0.kind == .hardDisk }.compactMap(\.path)
            #expect(drives == [rootDisk, dataDisk].map { "\(off)/\(URL(fileURLWithPath: $0).lastPathComponent)" }, "\(drives)")
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", "-f", "vhdx", drives[1]])
            #expect(check.exitCode == 0, "\(check.output)\(check.error)")
        }
    }

    @Test("viridiand killed after storing a checkpoint, and in the middle of a live merge: the restart puts the running worker in step", .guests(1))
    func killedMidOperation() async throws {
        let daemon = try TestDaemon()
        do {
            try await daemon.start()
            try await daemon.createTestVM("cpk")
            let rootDisk = try #require(try await daemon.client.vm("cpk").drives.first(where: { $0.kind == .hardDisk })?.path)
            #expect(await daemon.cli(["vm", "start", "cpk"]).exitCode == 0)
            try await daemon.waitForIntegration("cpk")
            try await daemon.startDirtying("cpk")
            for (failpoint, command) in [("checkpoint-exit-after-store", ["vm", "checkpoint", "cpk", "--name", "k1"]),
                                         ("merge-exit-before-pivot", ["vm", "checkpoint", "remove", "cpk", "k1"])] {
                await daemon.stop()
                daemon.environment["VIRIDIAN_FAILPOINTS"] = failpoint
                try await daemon.start()
                _ = await daemon.cli(command + ["--no-wait"])
                try await eventually("viridiand died at \(failpoint)", timeout: .seconds(120)) { daemon.process?.isRunning == false }
                daemon.environment["VIRIDIAN_FAILPOINTS"] = nil
                try await daemon.start()
                #expect(try await daemon.client.vm("cpk").state == .running, "the guest ran on through \(failpoint)")
                try await daemon.expectWriterProgress("cpk")
            }
            #expect(try await daemon.json([CheckpointInfo].self, ["vm", "checkpoint", "list", "cpk"]).isEmpty)
            #expect(try await daemon.client.vm("cpk").drives.first?.path == rootDisk, "the finished merge left the VM on its own disk")
            let settled = try await daemon.client.events(vm: "cpk", limit: 200).map(\.message)
            #expect(settled.contains { $0.contains("switched onto its overlay at the restart") }, "\(settled)")
            #expect(settled.contains { $0.contains("finished merging disk") }, "\(settled)")
            // What the inventory says is what the guest wrote: the disk checks clean after a stop.
            await daemon.expectHealthyKernel("cpk")
            #expect(await daemon.cli(["vm", "stop", "cpk", "--turn-off"]).exitCode == 0)
            let check = await TestDaemon.run("/usr/bin/qemu-img", ["check", "-f", "qcow2", rootDisk])
            #expect(check.exitCode == 0, "\(check.output)\(check.error)")
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }

    /// The guest's data disk: the block device that is not its root.
    private static let dataDevice = "root=$(findfs LABEL=viridian-root); for b in /sys/block/[sv]d*; do "
        + "[ \"/dev/${b##*/}\" != \"$root\" ] && data=/dev/${b##*/}; done"

    /// Writes `disk` to a file on the guest's root disk and to the first sector of its data disk (synced),
    /// and `memory` to a file in its tmpfs.
    private func mark(_ daemon: TestDaemon, disk: String, memory: String) async throws {
        let result = await daemon.exec("cpt", ["sh", "-c", "\(Self.dataDevice); echo \(disk) > /mnt/root/mark && sync && "
                                                  + "echo \(disk) | dd of=$data bs=512 count=1 conv=sync,fsync 2>/dev/null && echo \(memory) > /tmp/memmark"])
        try #require(result.exitCode == 0, "writing the marks failed: \(result.error)")
    }

    /// The root disk's mark, the memory mark and the data disk's mark (disks read past the page cache).
    private func read(_ daemon: TestDaemon, vm: String = "cpt") async -> [String] {
        let result = await daemon.exec(vm, ["sh", "-c", "\(Self.dataDevice); echo 3 > /proc/sys/vm/drop_caches; cat /mnt/root/mark; "
                                                  + "cat /tmp/memmark 2>/dev/null || echo none; dd if=$data bs=512 count=1 2>/dev/null | tr -d '\\0'"])
        return result.output.split(separator: "\n").map(String.init)
    }
}
