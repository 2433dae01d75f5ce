import APITypes
import Foundation
import Testing

@Suite("Shielded VMs: encrypted disks, TPM state and saved memory; console and exec only when allowed",
       .enabled(if: HostSupport.canBoot && AgentBundles.available && SoftwareTPMSupport.installed,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing); \(SoftwareTPMSupport.missing)")))
struct ShieldedVMTests {
    @Test("no plaintext marker the guest writes to its disk or memory lands in any file; the VM saves, restores, moves and boots", .guests(2))
    func shieldedVM() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            #expect(await source.cli(["vm", "create", "shg1", "--generation", "1", "--network", "none"]).exitCode == 0)
            let generationOne = await source.cli(["vm", "set", "shg1", "--shielded", "on"])
            #expect(generationOne.exitCode != 0 && generationOne.error.contains("needs Generation 2"), "\(generationOne.error)")

            try await source.createTestVM("sh1", extra: ["--generation", "2"])
            let plainDisk = try #require(try await source.client.vm("sh1").drives.first?.path)
            // A TPM that exists before shielding is kept, its state encrypted.
            #expect(await source.cli(["vm", "set", "sh1", "--tpm", "on"]).exitCode == 0)
            #expect(await source.cli(["vm", "start", "sh1"]).exitCode == 0)
            try await source.waitForIntegration("sh1", timeout: .seconds(180))
            #expect(await source.cli(["vm", "stop", "sh1", "--turn-off"]).exitCode == 0)
            let tpmState = "\(source.stateDirectory)/vms/\(try await source.client.vm("sh1").id)/tpm/tpm2-00.permall"
            let plainTPM = try #require(FileManager.default.contents(atPath: tpmState))
            // What a shield killed midway leaves (a key, a half-made encrypted TPM state) does not stop the next one.
            let vmID = try await source.client.vm("sh1").id
            try FileManager.default.createDirectory(atPath: "\(source.stateDirectory)/keys", withIntermediateDirectories: true)
            try Data(String(repeating: "0", count: 64).utf8).write(to: URL(fileURLWithPath: "\(source.stateDirectory)/keys/\(vmID).key"))
            try FileManager.default.createDirectory(atPath: "\(source.stateDirectory)/vms/\(vmID)/tpm.shielded", withIntermediateDirectories: true)
            let shield = await source.cli(["vm", "set", "sh1", "--shielded", "on", "--allow-console", "on"])
            #expect(shield.exitCode == 0 && shield.output.contains("1 disk encrypted"), "\(shield)")
            let vm = try await source.client.vm("sh1")
            #expect(vm.shielded && vm.tpm && vm.allowConsole)
            let disk = try #require(vm.drives.first?.path)
            #expect(disk.hasSuffix("-shielded.qcow2") && !FileManager.default.fileExists(atPath: plainDisk),
                    "the disk was rewritten encrypted and the plain one Viridian made is gone")
            let info = await TestDaemon.run("/usr/bin/qemu-img", ["info", disk])
            #expect(info.output.contains("encrypted: yes"), "\(info.output)")
            let keyFile = "\(source.stateDirectory)/keys/\(vm.id).key"
            #expect(ShieldMarker.mode(keyFile) == 0o600 && ShieldMarker.mode("\(source.stateDirectory)/keys") == 0o700,
                    "the key store is readable by root only")
            #expect(await source.cli(["vm", "set", "sh1", "--shielded", "off"]).exitCode != 0, "a shielded VM stays shielded")
            let encryptedTPM = try #require(FileManager.default.contents(atPath: tpmState))
            #expect(try String(contentsOfFile: "\(source.stateDirectory)/keys/\(vmID).key", encoding: .utf8) != String(repeating: "0", count: 64),
                    "the stray key was replaced by a new one")
            #expect(!FileManager.default.fileExists(atPath: "\(source.stateDirectory)/vms/\(vmID)/tpm.shielded"))
            #expect(encryptedTPM != plainTPM, "the TPM's state was rewritten encrypted")

            #expect(await source.cli(["vm", "start", "sh1"]).exitCode == 0)
            try await source.waitForIntegration("sh1", timeout: .seconds(180))
            let pid = try #require(try await source.client.vm("sh1").workerPID)
            let arguments = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
            #expect(!arguments.contains(try String(contentsOfFile: keyFile, encoding: .utf8)), "the key is never on a command line")
            #expect(SoftwareTPMSupport.processes(vmID: vm.id).count == 1)
            #expect(await source.exec("sh1", ["cat", "/sys/class/tpm/tpm0/tpm_version_major"]).output.trimmingWhitespace() == "2",
                    "swtpm opens the encrypted state")
            let made = await source.exec("sh1", ["sh", "-c", ShieldMarker.write])
            let marker = made.output.trimmingWhitespace()
            try #require(marker.hasPrefix("shield-") && marker.count > 30, "the guest made its marker: \(made)")

            // Saved: the memory is on disk now, encrypted.
            #expect(await source.cli(["vm", "save", "sh1"]).exitCode == 0)
            #expect(ShieldMarker.files(containing: marker, under: source.stateDirectory).isEmpty, "no file holds the marker in the clear")
            #expect(await source.cli(["vm", "start", "sh1"]).exitCode == 0)
            try await source.waitForIntegration("sh1", timeout: .seconds(60))
            #expect(await source.exec("sh1", ["head", "-1", "/tmp/shield-memory"]).output.contains(marker), "the restored memory is the guest's")

            // A standard checkpoint: its overlay is encrypted and so is its memory; applied, the guest is back at that moment.
            #expect(await source.cli(["vm", "set", "sh1", "--checkpoint-type", "standard"]).exitCode == 0)
            let checkpoint = await source.cli(["vm", "checkpoint", "sh1", "--name", "c1"])
            #expect(checkpoint.exitCode == 0, "\(checkpoint.error)")
            let overlay = try #require(try await source.client.vm("sh1").drives.first?.path)
            let overlayInfo = await TestDaemon.run("/usr/bin/qemu-img", ["info", "-U", overlay])
            #expect(overlay != disk && overlayInfo.output.contains("encrypted: yes"), "the checkpoint's overlay has a LUKS layer: \(overlayInfo.output)")
            #expect(await source.exec("sh1", ["sh", "-c", "echo after > /tmp/shield-after; echo \"$(head -1 /tmp/shield-memory)-after\" > /mnt/root/after; sync"]).exitCode == 0)
            #expect(ShieldMarker.files(containing: marker, under: source.stateDirectory).isEmpty, "the checkpoint's memory is encrypted")
            #expect(await source.cli(["vm", "checkpoint", "apply", "sh1", "c1"]).exitCode == 0)
            #expect(await source.state(of: "sh1") == .saved)
            #expect(await source.cli(["vm", "start", "sh1"]).exitCode == 0)
            try await source.waitForIntegration("sh1", timeout: .seconds(60))
            let atCheckpoint = await source.exec("sh1", ["sh", "-c", "head -1 /tmp/shield-memory; ls /tmp/shield-after 2>&1"])
            #expect(atCheckpoint.output.contains(marker) && atCheckpoint.output.contains("No such file"), "back at the checkpoint: \(atCheckpoint)")
            let remove = await source.cli(["vm", "checkpoint", "remove", "sh1", "c1"])
            #expect(remove.exitCode == 0, "the overlays merge into the encrypted disk while the VM runs: \(remove.error)")
            #expect(try await source.client.vm("sh1").drives.first?.path == disk)
            let export = await source.cli(["vm", "checkpoint", "sh1", "--name", "c2"])
            #expect(export.exitCode == 0)
            let exported = await source.cli(["vm", "checkpoint", "export", "sh1", "c2", source.stateDirectory])
            #expect(exported.exitCode != 0 && exported.error.contains("shielded"), "\(exported.error)")
            #expect(await source.cli(["vm", "checkpoint", "remove", "sh1", "c2"]).exitCode == 0)

            // What would write its data unencrypted is refused.
            let backup = await source.cli(["vm", "backup", "sh1", "--to", "\(source.stateDirectory)/backups"])
            #expect(backup.exitCode != 0 && backup.error.contains("shielded"), "\(backup.error)")
            let withStorage = await source.cli(["vm", "move", "sh1", "--to", "host-2", "--include-storage"])
            #expect(withStorage.exitCode != 0 && withStorage.error.contains("shielded"), "\(withStorage.error)")

            // A live move takes the key along, over the peers' TLS; the source's key store lets go of it.
            let move = await source.cli(["vm", "move", "sh1", "--to", "host-2"])
            #expect(move.exitCode == 0, "\(move)")
            try await destination.waitForIntegration("sh1", timeout: .seconds(60))
            #expect(await destination.exec("sh1", ["head", "-1", "/tmp/shield-memory"]).output.contains(marker), "the moved memory is the guest's")
            #expect(!FileManager.default.fileExists(atPath: keyFile), "the source's key is deleted after the move")
            #expect(FileManager.default.fileExists(atPath: "\(destination.stateDirectory)/keys/\(vm.id).key"))

            // A cold boot on the destination opens the encrypted disk and the encrypted TPM.
            #expect(await destination.cli(["vm", "stop", "sh1", "--turn-off"]).exitCode == 0)
            #expect(await destination.cli(["vm", "start", "sh1"]).exitCode == 0)
            try await destination.waitForIntegration("sh1", timeout: .seconds(180))
            #expect(await destination.exec("sh1", ["cat", "/mnt/root/shield-marker"]).output.contains(marker), "the disk kept the marker")
            #expect(await destination.exec("sh1", ["cat", "/sys/class/tpm/tpm0/tpm_version_major"]).output.trimmingWhitespace() == "2")

            // Without --allow-console the console, its log and exec are refused.
            #expect(await destination.cli(["vm", "stop", "sh1", "--turn-off"]).exitCode == 0)
            #expect(await destination.cli(["vm", "set", "sh1", "--allow-console", "off"]).exitCode == 0)
            #expect(await destination.cli(["vm", "start", "sh1"]).exitCode == 0)
            try await destination.waitForIntegration("sh1", timeout: .seconds(180))
            let exec = await destination.exec("sh1", ["true"])
            #expect(exec.exitCode != 0 && exec.error.contains("is shielded"), "\(exec)")
            await #expect(throws: ViridianError.self, "the console log is refused") { _ = try await destination.client.consoleLog("sh1") }
            #expect(await destination.cli(["vm", "stop", "sh1", "--turn-off"]).exitCode == 0)

            for host in [source, destination] {
                #expect(ShieldMarker.files(containing: marker, under: host.stateDirectory).isEmpty, "no file of \(host.stateDirectory) holds the marker")
            }
            // The search finds what is there (a control).
            let control = "\(source.stateDirectory)/control.bin"
            try Data(("noise " + marker).utf8).write(to: URL(fileURLWithPath: control))
            #expect(ShieldMarker.files(containing: marker, under: source.stateDirectory) == [control])
        }
    }
}

/// The guest's marker, and the host-side search for it.
enum ShieldMarker {
    /// Makes a marker only the guest knows until it prints it, writes it to its disk and (many
    /// times) to its memory (`/tmp` is the initramfs, in RAM), and prints it.
    static let write = """
        m="shield-$(cat /proc/sys/kernel/random/uuid)"
        echo "$m" > /mnt/root/shield-marker; sync
        for i in $(seq 2000); do echo "$m"; done > /tmp/shield-memory
        echo "$m"
        """

    /// Every regular file under `folder` whose bytes contain `marker`.
    static func files(containing marker: String, under folder: String) -> [String] {
        let needle = Data(marker.utf8)
        var found: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        while let relative = walker.nextObject() as? String {
            let path = "\(folder)/\(relative)"
            guard (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular,
                  let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { continue }
            if data.range(of: needle) != nil { found.append(path) }
        }
        return found
    }

    /// A file's permission bits.
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }
}
