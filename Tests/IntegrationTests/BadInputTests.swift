import APIClient
import APITypes
import Foundation
import Testing

/// Bad input gets a clear error, a documented exit code, and leaves nothing half-made.
@Suite("Bad input", .enabled(if: HostSupport.hasQEMU && HostSupport.hasBuild, Comment(rawValue: HostSupport.missing)))
struct BadInputTests {
    @Test("invalid VM settings are refused with messages that name the limit, and nothing is created")
    func invalidSettings() async throws {
        try await TestDaemon.with { daemon in
            let disk = "\(daemon.stateDirectory)/data.qcow2"
            #expect(await daemon.cli(["vhd", "new", disk, "--size", "64M"]).exitCode == 0)

            let cases: [([String], Int32, String)] = [
                (["vm", "create", "bad name!"], 1, "is invalid"),
                (["vm", "create", String(repeating: "a", count: 65)], 1, "longer than 64"),
                (["vm", "create", "m1", "--memory", "16M"], 1, "out of range"),
                (["vm", "create", "m2", "--memory", "33M"], 1, "multiple of 2 MiB"),
                (["vm", "create", "c1", "--cpus", "0"], 1, "processor count"),
                (["vm", "create", "c2", "--cpus", "999"], 1, "processor count"),
                (["vm", "create", "d1", "--disk", "/nonexistent/disk.vhdx"], 4, "no file at"),
                (["vm", "create", "k1", "--kernel", "/nonexistent/vmlinuz"], 4, "does not exist"),
                (["vm", "create", "g1", "--generation", "3"], 1, "generation must be 1 or 2"),
                (["vm", "create", "l1", "--generation", "2", "--network", "legacy"], 1, "synthetic network adapters only"),
                (["vm", "create", "s1", "--secure-boot", "on"], 1, "Secure Boot needs a Generation 2"),
                (["vm", "create", "i1", "--image", "no-such-image"], 4, "no image named"),
                (["vm", "show", "ghost"], 4, "no VM named 'ghost'"),
                (["vm", "start", "ghost"], 4, "no VM named"),
                (["vhd", "new", disk, "--size", "64M"], 5, "exists already"),
                (["vhd", "new", "\(daemon.stateDirectory)/x.vhdx", "--size", "1K"], 1, "at least 1 MiB"),
                (["vhd", "new", "\(daemon.stateDirectory)/child.vhdx", "--parent", disk], 1, "must be a .qcow2"),
            ]
            for (arguments, code, message) in cases {
                let result = await daemon.cli(arguments)
                #expect(result.exitCode == code, "\(arguments): exit \(result.exitCode), \(result.error)")
                #expect(result.error.contains(message), "\(arguments): \(result.error)")
            }
            #expect(try await daemon.client.listVMs().isEmpty, "no VM is left from a refused create")
            let disks = try FileManager.default.contentsOfDirectory(atPath: "\(daemon.stateDirectory)/disks")
            #expect(disks.isEmpty, "no disk is left from a refused create: \(disks)")
        }
    }

    @Test("duplicates, taken locations and disks attached twice are refused")
    func conflicts() async throws {
        try await TestDaemon.with { daemon in
            let disk = "\(daemon.stateDirectory)/shared.vhdx"
            #expect(await daemon.cli(["vhd", "new", disk, "--size", "64M", "--type", "dynamic"]).exitCode == 0)
            #expect(await daemon.cli(["vm", "create", "a1", "--disk", disk, "--network", "none"]).exitCode == 0)

            let duplicate = await daemon.cli(["vm", "create", "A1"])
            #expect(duplicate.exitCode == 5 && duplicate.error.contains("already exists"), "names are case-insensitive")
            let twice = await daemon.cli(["vm", "create", "b1", "--disk", disk])
            #expect(twice.exitCode == 5 && twice.error.contains("already attached to VM 'a1'"), "\(twice.error)")
            #expect(await daemon.cli(["vm", "create", "b1", "--generation", "2", "--network", "none"]).exitCode == 0)

            let other = "\(daemon.stateDirectory)/other.qcow2"
            #expect(await daemon.cli(["vhd", "new", other, "--size", "64M"]).exitCode == 0)
            let taken = await daemon.cli(["vm", "disk", "add", "a1", other, "--controller-type", "ide", "--controller-number", "0", "--location", "0"])
            #expect(taken.exitCode == 5 && taken.error.contains("IDE 0:0 is already taken"), "\(taken.error)")
            let beyond = await daemon.cli(["vm", "disk", "add", "a1", other, "--controller-type", "ide", "--controller-number", "2", "--location", "0"])
            #expect(beyond.exitCode == 1 && beyond.error.contains("does not exist"), "\(beyond.error)")
            let location = await daemon.cli(["vm", "disk", "add", "a1", other, "--controller-type", "scsi", "--location", "64"])
            #expect(location.exitCode == 1 && location.error.contains("beyond SCSI controller limits"), "\(location.error)")
            let ide = await daemon.cli(["vm", "disk", "add", "b1", other, "--controller-type", "ide", "--location", "0"])
            #expect(ide.exitCode == 1 && ide.error.contains("no IDE controller"), "\(ide.error)")
            let added = await daemon.cli(["vm", "disk", "add", "b1", other])
            #expect(added.exitCode == 0, "\(added.error)")
            let attached = try await daemon.client.vm("b1")
                #expect(attached.drives.first?.locationName == "SCSI 0:0")
            let namedTwice = await daemon.cli(["vm", "disk", "remove", "b1", other, "--path", other])
            #expect(namedTwice.exitCode == 2, "the disk is named once: \(namedTwice)")
            #expect(await daemon.cli(["vm", "disk", "remove", "b1", other]).exitCode == 0, "as vm disk add names it")
            let detached = try await daemon.client.vm("b1")
                #expect(detached.drives.isEmpty)
        }
    }

    @Test("a corrupt request body gets a 400 with the reason")
    func corruptBody() async throws {
        try await TestDaemon.with { daemon in
            await #expect {
                _ = try await daemon.client.send(.POST, "/v1/vms", body: "not an object")
            } throws: { error in
                guard let error = error as? ViridianError else { return false }
                return error.code == .invalidArgument && error.message.contains("invalid request body")
            }
            await #expect {
                _ = try await daemon.client.send(.POST, "/v1/vms", body: ["generation": 1])
            } throws: { error in
                (error as? ViridianError)?.message.contains("'name' is missing") ?? false
            }
        }
    }

    @Test("a missing QEMU binary stops viridiand with the package to install")
    func missingQEMU() async throws {
        let daemon = try TestDaemon()
        daemon.environment["VIRIDIAN_QEMU"] = "/nonexistent/qemu-system-x86_64"
        await #expect(throws: ViridianError.self) { try await daemon.start() }
        #expect(daemon.daemonLog.contains("apt-get install qemu-system-x86"), "\(daemon.daemonLog)")
        await daemon.tearDown()
    }
}
