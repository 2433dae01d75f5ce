import APITypes
import Foundation
import Testing

@Suite("Virtual TPM 2.0 (swtpm) for Generation 2 VMs",
       .enabled(if: HostSupport.canBoot && AgentBundles.available && SoftwareTPMSupport.installed,
                Comment(rawValue: "\(HostSupport.missing); \(AgentBundles.missing); \(SoftwareTPMSupport.missing)")))
struct VirtualTPMTests {
    @Test("the guest sees a TPM 2.0; a PCR it extends survives save, restore and a live move; its state goes with Off moves, backups and checkpoints", .guests(2))
    func virtualTPM() async throws {
        try await TestHosts.with(count: 2) { hosts in
            let (source, destination) = (hosts[0], hosts[1])
            #expect(await source.cli(["vm", "create", "tpmg1", "--generation", "1", "--network", "none"]).exitCode == 0)
            let generationOne = await source.cli(["vm", "set", "tpmg1", "--tpm", "on"])
            #expect(generationOne.exitCode != 0 && generationOne.error.contains("needs a Generation 2 VM"), "\(generationOne.error)")

            try await source.createTestVM("tpm1", extra: ["--generation", "2"])
            #expect(await source.cli(["vm", "set", "tpm1", "--tpm", "on"]).exitCode == 0)
            #expect(try await source.client.vm("tpm1").tpm)
            #expect(await source.cli(["vm", "show", "tpm1"]).output.split(separator: "\n").contains { $0.hasPrefix("TPM") && $0.hasSuffix("on") })
            #expect(await source.cli(["vm", "start", "tpm1"]).exitCode == 0)
            try await source.waitForIntegration("tpm1", timeout: .seconds(180))
            let running = await source.cli(["vm", "set", "tpm1", "--tpm", "off"])
            #expect(running.exitCode != 0 && running.error.contains("only while it is Off"), "\(running.error)")

            let version = await source.exec("tpm1", ["cat", "/sys/class/tpm/tpm0/tpm_version_major"])
            #expect(version.output.trimmingWhitespace() == "2", "the guest's kernel found a TPM 2.0: \(version)")
            let extend = await source.exec("tpm1", ["sh", "-c", TPMCommands.extendPCR16])
            #expect(extend.exitCode == 0 && extend.output.contains(TPMCommands.successResponse), "TPM2_PCR_Extend answered: \(extend)")
            let expected = await source.exec("tpm1", ["sh", "-c", TPMCommands.expectedPCR16])
            let extended = try #require(expected.output.split(separator: " ").first.map { $0.uppercased() }, "\(expected)")
            #expect(await TPMCommands.pcr16(source, "tpm1") == extended, "PCR 16 holds SHA-256(zeros ‖ digest)")

            #expect(await source.cli(["vm", "save", "tpm1"]).exitCode == 0)
            #expect(SoftwareTPMSupport.processes(vmID: try await source.client.vm("tpm1").id).isEmpty,
                    "no swtpm runs for a Saved VM")
            #expect(await source.cli(["vm", "start", "tpm1"]).exitCode == 0)
            try await source.waitForIntegration("tpm1", timeout: .seconds(60))
            #expect(await TPMCommands.pcr16(source, "tpm1") == extended, "PCR 16 after save and restore")

            let move = await source.cli(["vm", "move", "tpm1", "--to", "host-2"])
            #expect(move.exitCode == 0 && move.output.contains("live migration"), "\(move)")
            try await destination.waitForIntegration("tpm1", timeout: .seconds(60))
            #expect(await TPMCommands.pcr16(destination, "tpm1") == extended, "PCR 16 after a live move")
            let id = try await destination.client.vm("tpm1").id
            #expect(SoftwareTPMSupport.processes(vmID: id).count == 1, "one swtpm, the destination's")

            // Off, the TPM is its state file, and it travels with the VM.
            #expect(await destination.cli(["vm", "stop", "tpm1", "--turn-off"]).exitCode == 0)
            let state = "\(destination.stateDirectory)/vms/\(id)/tpm/tpm2-00.permall"
            let written = try #require(FileManager.default.contents(atPath: state), "the TPM's state is kept in the VM's folder")
            #expect(SoftwareTPMSupport.processes(vmID: id).isEmpty, "no swtpm runs for an Off VM")
            #expect(await destination.cli(["vm", "move", "tpm1", "--to", "host-1"]).exitCode == 0)
            #expect(FileManager.default.contents(atPath: "\(source.stateDirectory)/vms/\(id)/tpm/tpm2-00.permall") == written,
                    "the Off move carried the TPM's state")
            #expect(await source.cli(["vm", "start", "tpm1"]).exitCode == 0)
            try await source.waitForIntegration("tpm1", timeout: .seconds(180))
            #expect(await TPMCommands.pcr16(source, "tpm1") == String(repeating: "0", count: 64), "a boot resets the PCRs")
            #expect(await source.cli(["vm", "stop", "tpm1", "--turn-off"]).exitCode == 0)

            // Backups and checkpoints keep the TPM: restored or applied, it is the state they took.
            let stateFile = "\(source.stateDirectory)/vms/\(id)/tpm/tpm2-00.permall"
            let taken = try #require(FileManager.default.contents(atPath: stateFile))
            let repository = "\(source.stateDirectory)/tpm-backups"
            #expect(await source.cli(["vm", "backup", "tpm1", "--to", repository]).exitCode == 0)
            #expect(await source.cli(["backup", "verify", repository]).exitCode == 0)
            #expect(await source.cli(["vm", "checkpoint", "tpm1", "--name", "with-tpm"]).exitCode == 0)
            try Data("not the TPM".utf8).write(to: URL(fileURLWithPath: stateFile))
            #expect(await source.cli(["vm", "checkpoint", "apply", "tpm1", "with-tpm"]).exitCode == 0)
            #expect(FileManager.default.contents(atPath: stateFile) == taken, "applying the checkpoint put the TPM's state back")
            let restored = await source.cli(["backup", "restore", repository, "--vm", "tpm1", "--as", "tpm2"])
            #expect(restored.exitCode == 0, "\(restored.error)")
            let copy = try await source.client.vm("tpm2")
            #expect(copy.tpm && FileManager.default.contents(atPath: "\(source.stateDirectory)/vms/\(copy.id)/tpm/tpm2-00.permall") == taken,
                    "the VM restored from the backup has the TPM it had")
            #expect(await source.cli(["vm", "start", "tpm2"]).exitCode == 0)
            try await source.waitForIntegration("tpm2", timeout: .seconds(180))
            let restoredVersion = await source.exec("tpm2", ["cat", "/sys/class/tpm/tpm0/tpm_version_major"])
            #expect(restoredVersion.output.trimmingWhitespace() == "2", "swtpm runs on the restored state: \(restoredVersion)")
            #expect(await source.cli(["vm", "stop", "tpm2", "--turn-off"]).exitCode == 0)
        }
    }
}

/// Raw TPM 2.0 commands the busybox guest sends through `/dev/tpm0` (it has no tpm2-tools).
enum TPMCommands {
    /// The digest extended into PCR 16: 32 bytes of 0x5A.
    static let digest = String(repeating: "\\132", count: 32)

    /// TPM2_PCR_Extend(PCR 16, SHA-256 digest) with an empty password session, its response in hex.
    /// Header: tag 0x8002 (sessions), size 65, command 0x182; handle 16; auth area of 9 bytes
    /// (TPM_RS_PW, no nonce, no attributes, empty password); one SHA-256 (0x000B) digest.
    static let extendPCR16 = """
        exec 3<>/dev/tpm0
        printf '\\200\\002\\000\\000\\000\\101\\000\\000\\001\\202\\000\\000\\000\\020\\000\\000\\000\\011\\100\\000\\000\\011\\000\\000\\000\\000\\000\\000\\000\\000\\001\\000\\013\(digest)' >&3
        dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' \\n'
        """

    /// A successful response with sessions: tag 0x8002, size 19, response code 0.
    static let successResponse = "80020000001300000000"

    /// What PCR 16 must hold after one extend from its reset value: SHA-256(32 zero bytes ‖ digest).
    static let expectedPCR16 = "{ head -c 32 /dev/zero; printf '\(digest)'; } | sha256sum"

    /// PCR 16 of the SHA-256 bank as the guest's kernel reads it (upper-case hex).
    static func pcr16(_ daemon: TestDaemon, _ vm: String) async -> String {
        await daemon.exec(vm, ["cat", "/sys/class/tpm/tpm0/pcr-sha256/16"]).output.trimmingWhitespace().uppercased()
    }
}

/// Whether this host has swtpm, and the swtpm processes of a VM.
enum SoftwareTPMSupport {
    static var installed: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/swtpm") && FileManager.default.isExecutableFile(atPath: "/usr/bin/swtpm_setup")
    }

    static var missing: String { installed ? "" : "swtpm is not installed (apt-get install swtpm swtpm-tools)" }

    /// The pids of running swtpm processes whose command line names the VM's runtime folder.
    static func processes(vmID id: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("swtpm") == true && arguments.contains { $0.contains("/run/\(id)/") }
        }
    }
}
