import APIClient
import APITypes
import Foundation
import NIOCore
import Testing

/// The whole life of a VM through the real CLI, daemon and QEMU: create → start → ready marker →
/// pause/resume → save → restore (memory really restored) → graceful stop → remove.
@Suite("VM lifecycle on real QEMU", .enabled(if: HostSupport.canBoot, Comment(rawValue: HostSupport.missing)))
struct VMLifecycleTests {
    @Test("create, start, pause, resume, save, restore, stop and remove a Generation 1 VM", .guests(1))
    func lifecycle() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("life1")

            let created = try await daemon.json(VMInfo.self, ["vm", "show", "life1"])
            #expect(created.state == .off)
            #expect(created.generation == 1 && created.memoryMiB == 256 && created.processorCount == 1)
            #expect(created.drives.first?.controllerType == .ide)
            #expect(created.drives.contains { $0.kind == .dvd && $0.controllerType == .ide && $0.controllerNumber == 1 && $0.location == 0 && $0.path == nil },
                    "a Generation 1 VM gets an empty DVD drive at IDE 1:0, as New-VM does: \(created.drives)")

            let start = await daemon.cli(["vm", "start", "life1"])
            #expect(start.exitCode == 0, "\(start.error)")
            try await daemon.waitForConsole("life1", contains: "VIRIDIAN-GUEST-READY")
            try await daemon.waitForConsole("life1", contains: "VIRIDIAN-ROOT-MOUNTED")
            let list = try await daemon.json([VMSummary].self, ["vm", "list"])
            #expect(list.map(\.name) == ["life1"] && list.first?.state == .running)

            // A running VM's IDE disk cannot grow (Hyper-V grows SCSI disks only while the VM runs).
            let root = try #require(created.drives.first?.path)
            let resize = await daemon.cli(["vhd", "resize", root, "--size", "1G"])
            #expect(resize.exitCode == 5 && resize.error.contains("IDE controller") && resize.error.contains("only while the VM is Off"), "\(resize.error)")

            #expect(await daemon.cli(["vm", "pause", "life1"]).exitCode == 0)
            #expect(try await daemon.client.vm("life1").state == .paused)
            #expect(await daemon.cli(["vm", "resume", "life1"]).exitCode == 0)
            #expect(try await daemon.client.vm("life1").state == .running)

            // Leave a mark in guest memory (tmpfs), save, restore, and read it back.
            try await consoleExchange(daemon, vm: "life1", send: "echo $((6*7))-remembered > /tmp/mark\n", expect: nil)
            let save = await daemon.cli(["vm", "save", "life1"])
            #expect(save.exitCode == 0, "\(save.error)")
            #expect(try await daemon.client.vm("life1").state == .saved)
            let restore = await daemon.cli(["vm", "start", "life1"])
            #expect(restore.exitCode == 0 && restore.output.contains("restored"), "\(restore.output) \(restore.error)")
            try await consoleExchange(daemon, vm: "life1", send: "cat /tmp/mark\n", expect: "42-remembered")

            // Without the shutdown integration service, stop falls back to the ACPI power button.
            #expect(await daemon.cli(["vm", "ic", "disable", "life1", "shutdown"]).exitCode == 0)
            let stop = await daemon.cli(["vm", "stop", "life1", "--json"])
            #expect(stop.exitCode == 0)
            #expect(stop.output.contains("ACPI power button"), "\(stop.output)")
            #expect(try await daemon.client.vm("life1").state == .off)

            let jobs = try await daemon.json([JobInfo].self, ["jobs"])
            #expect(Set(jobs.map(\.kind)).isSuperset(of: ["vm.start", "vm.save", "vm.stop"]))
            #expect(jobs.allSatisfy { $0.state == .completed })

            #expect(await daemon.cli(["vm", "remove", "life1"]).exitCode == 0)
            #expect(try await daemon.client.listVMs().isEmpty)
            #expect(FileManager.default.fileExists(atPath: root), "remove without --delete-disks keeps the disk")
            let events = try await daemon.json([EventRecord].self, ["events", "--vm", "life1"])
            #expect(events.contains { $0.message.contains("was removed") })
            #expect(events.contains { $0.message == "VM 'life1' is Off" })
        }
    }

    @Test("a Generation 2 VM boots through UEFI (OVMF) with its disk on SCSI", .guests(1))
    func generationTwo() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("gen2", extra: ["--generation", "2"])
            let vm = try await daemon.client.vm("gen2")
            #expect(vm.generation == 2 && vm.drives.first?.controllerType == .scsi)
            // The VM is created with this host's newest versioned machine type and keeps the one it is given.
            let host = try await daemon.client.host()
            #expect(vm.machineType != nil && vm.machineType == host.newestMachineTypes?.last, "\(String(describing: vm.machineType))")
            let future = await daemon.cli(["vm", "set", "gen2", "--machine-type", "pc-q35-99.0"])
            #expect(future.exitCode != 0 && future.error.contains("not available in QEMU"), "\(future.error)")
            let wrongGeneration = await daemon.cli(["vm", "set", "gen2", "--machine-type", "pc-i440fx-7.2"])
            #expect(wrongGeneration.exitCode != 0 && wrongGeneration.error.contains("not a Generation 2 type"), "\(wrongGeneration.error)")
            #expect(await daemon.cli(["vm", "set", "gen2", "--machine-type", "pc-q35-7.2"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "start", "gen2"]).exitCode == 0)
            try await daemon.waitForConsole("gen2", contains: "VIRIDIAN-ROOT-MOUNTED", timeout: .seconds(180))
            let pid = try #require(try await daemon.client.vm("gen2").workerPID)
            let arguments = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8).split(separator: "\0")
            #expect(arguments.contains("pc-q35-7.2,smm=on") || arguments.contains("pc-q35-7.2"), "\(arguments)")

            // A running Generation 2 VM without a DVD drive gets a SCSI one hot-added for the setup disk.
            #expect(try await daemon.client.vm("gen2").drives.allSatisfy { $0.kind == .hardDisk }, "created without a DVD drive")
            try await daemon.waitForIntegration("gen2")
            let insert = await daemon.cli(["vm", "ic", "insert-disk", "gen2"])
            #expect(insert.exitCode == 0, "insert-disk on a running Generation 2 VM: \(insert.error)")
            let dvd = try #require(try await daemon.client.vm("gen2").drives.first { $0.kind == .dvd })
            #expect(dvd.controllerType == .scsi && dvd.path?.hasSuffix(".iso") == true, "\(dvd)")
            let seen = await daemon.exec("gen2", ["sh", "-c", "for i in $(seq 50); do [ -s /sys/block/sr0/size ] && [ $(cat /sys/block/sr0/size) -gt 0 ] && break; sleep 0.2; done; cat /sys/block/sr0/size"])
            #expect(seen.exitCode == 0 && (Int(seen.output.trimmingWhitespace()) ?? 0) > 0, "the guest sees the hot-added DVD with its medium: \(seen)")
            // And the SCSI DVD drive goes again while the VM runs (Remove-VMDvdDrive).
            let removed = await daemon.cli(["vm", "dvd", "remove", "gen2"])
            #expect(removed.exitCode == 0, "\(removed.error)")
            #expect(try await daemon.client.vm("gen2").drives.allSatisfy { $0.kind == .hardDisk }, "no DVD drive is listed after the remove")
            try await eventually("the guest sees its DVD drive go", timeout: .seconds(30)) {
                await daemon.exec("gen2", ["sh", "-c", "[ -e /sys/block/sr0 ] && echo present"]).output.isEmpty
            }
            let stop = await daemon.cli(["vm", "stop", "gen2", "--turn-off"])
            #expect(stop.exitCode == 0 && stop.output.contains("turned off"))
        }
    }

    @Test("Secure Boot: OVMF with Microsoft's keys boots Debian's signed kernel and the guest sees Secure Boot on", .guests(1))
    func secureBoot() async throws {
        try await TestDaemon.with { daemon in
            try await daemon.createTestVM("sb", extra: ["--generation", "2", "--secure-boot", "on"])
            #expect(try await daemon.client.vm("sb").secureBoot)
            #expect(await daemon.cli(["vm", "start", "sb"]).exitCode == 0)
            try await daemon.waitForConsole("sb", contains: "VIRIDIAN-GUEST-READY", timeout: .seconds(180))
            #expect(try await daemon.client.consoleLog("sb").contains("Secure boot enabled"))
        }
    }

    @Test("stop falls back to turning off when the guest ignores the power button", .guests(1))
    func stopTimeout() async throws {
        try await TestDaemon.with { daemon in
            // rdinit=/bin/sh: no init scripts, so no acpid listens for the button.
            try await daemon.createTestVM("deaf", extra: ["--append", "rdinit=/bin/sh"])
            #expect(await daemon.cli(["vm", "start", "deaf"]).exitCode == 0)
            try await daemon.waitForConsole("deaf", contains: "/ #")
            // Cancelling a graceful stop leaves the VM running.
            let pending = await daemon.cli(["vm", "stop", "deaf", "--timeout", "600", "--no-wait"])
            let jobID = pending.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(pending.exitCode == 0 && !jobID.isEmpty)
            #expect(await daemon.cli(["jobs", "cancel", jobID]).exitCode == 0)
            var job = try await daemon.client.job(jobID)
            while !job.state.isFinished {
                try await Task.sleep(for: .milliseconds(50))
                job = try await daemon.client.job(jobID)
            }
            #expect(job.state == .cancelled)
            #expect(try await daemon.client.vm("deaf").state == .running)

            let stop = await daemon.cli(["vm", "stop", "deaf", "--timeout", "2"])
            #expect(stop.exitCode == 0)
            #expect(stop.output.contains("did not shut down within 2 s"), "\(stop.output)")
            #expect(try await daemon.client.vm("deaf").state == .off)
        }
    }

    /// Sends `send` to the console over the daemon's WebSocket and, if `expect` is set, waits until it appears.
    private func consoleExchange(_ daemon: TestDaemon, vm: String, send: String, expect: String?) async throws {
        let connection = try await ConsoleConnection.open(socketPath: daemon.socket, vm: vm)
        let seen = SeenText()
        let input = AsyncStream<ByteBuffer> { continuation in
            continuation.yield(ByteBuffer(string: send))
            Task {
                try? await Task.sleep(for: .seconds(expect == nil ? 1 : 20))
                continuation.finish()
            }
        }
        _ = try await connection.run(input: input.map { $0 }) { buffer in
            let text = seen.append(String(buffer: buffer))
            return expect.map { !text.contains($0) } ?? true
        }
        if let expect { #expect(seen.text.contains(expect), "console showed: \(seen.text.suffix(300))") }
    }
}

/// Text gathered from a console, safe to append from the session's task.
final class SeenText: @unchecked Sendable {
    private let lock = NSLock()
    private var storage = ""

    func append(_ text: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        storage += text
        return storage
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
