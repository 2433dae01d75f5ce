import APITypes
import Foundation
import HostTools

/// A VM's virtual TPM 2.0 (Hyper-V's `Enable-VMTPM`), emulated by Debian's `swtpm`: one swtpm per
/// running VM, listening on a control socket in the worker's runtime folder. QEMU connects to it
/// (`tpm-emulator` behind a `tpm-crb` device) and carries its state in every migration stream, so
/// save, restore and live moves keep the TPM as the guest left it. swtpm ends itself when QEMU's
/// connection closes (`--terminate`); `end` ends one that is left over.
///
/// The state lives in the VM's folder (`WorkerPaths.tpmStateDirectory`); swtpm replaces its file
/// with a rename on every change, so a copy of it is never half written.
public struct SoftwareTPM: Sendable {
    /// The `swtpm` emulator.
    public let swtpm: String
    /// `swtpm_setup`, which manufactures a TPM's first state.
    public let setup: String

    /// How long swtpm may take to listen on its socket, and a left-over one to exit.
    static let startTimeout = Duration.seconds(10)

    /// Finds swtpm and swtpm_setup.
    /// - Throws: `missingDependency` naming the packages (`swtpm`, `swtpm-tools`).
    public static func locate() throws -> SoftwareTPM {
        SoftwareTPM(swtpm: try HostExecutable.locate("swtpm", package: "swtpm"),
                    setup: try HostExecutable.locate("swtpm_setup", package: "swtpm-tools"))
    }

    /// Manufactures the VM's TPM when it has no state yet, as a TPM leaves its factory: an
    /// endorsement key with its certificate from the host's swtpm CA, a platform certificate, the
    /// SHA-256 PCR bank. Built in a scratch folder and renamed into place, so a failure (or a
    /// killed daemon) leaves either no TPM or a whole one. With `keyFile` (a shielded VM) the state
    /// is encrypted with it (AES-256-CBC) from the start.
    public func manufactureIfNeeded(_ paths: WorkerPaths, keyFile: String?) async throws {
        guard !FileManager.default.fileExists(atPath: paths.tpmState) else { return }
        let scratch = paths.tpmStateDirectory + ".new"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        do {
            let encryption = keyFile.map { ["--keyfile", $0, "--cipher", "aes-256-cbc"] } ?? []
            try await HostCommand.check(setup, ["--tpm2", "--tpmstate", scratch, "--create-ek-cert", "--create-platform-cert",
                                                "--lock-nvram", "--pcr-banks", "sha256", "--overwrite"] + encryption,
                                        purpose: "manufacturing the virtual TPM (swtpm_setup)", timeout: .seconds(60))
            try Self.replaceState(with: scratch, paths)
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
    }

    /// Makes an encrypted copy of an existing TPM's state with `keyFile` (the VM is being shielded),
    /// keeping the TPM itself: a swtpm on the plain state hands its permanent state out
    /// (`swtpm_ioctl --save`), and a keyed swtpm on `paths.tpmEncryptedStateDirectory` takes it in
    /// and stores it encrypted. The plain state stays until `adoptEncryptedState`, so a shield that
    /// fails or is interrupted leaves the VM's TPM as it was. The plain blob in between lives in the
    /// VM's folder (mode 0700) and is deleted. Nothing is made when the VM has no TPM state yet.
    public func prepareEncryptedState(_ paths: WorkerPaths, keyFile: String) async throws {
        Self.discardEncryptedState(paths)
        guard FileManager.default.fileExists(atPath: paths.tpmState) else { return }
        let ioctl = try HostExecutable.locate("swtpm_ioctl", package: "swtpm-tools")
        let blob = "\(paths.vmDirectory)/tpm-permanent.blob"
        let scratch = paths.tpmEncryptedStateDirectory + ".partial"
        defer {
            unlink(blob)
            // The VM is Off: its runtime folder held only these swtpm runs.
            WorkerLauncher.cleanUp(paths)
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try await start(paths, keyFile: nil, stateDirectory: paths.tpmStateDirectory, flags: ["--flags", "not-need-init"])
        try await HostCommand.check(ioctl, ["--unix", paths.tpmSocket, "--save", "permanent", blob], purpose: "reading the TPM's state")
        try await HostCommand.check(ioctl, ["--unix", paths.tpmSocket, "-s"], purpose: "stopping the plain TPM")
        Self.end(paths)
        try? FileManager.default.removeItem(atPath: scratch)
        try await start(paths, keyFile: keyFile, stateDirectory: scratch, flags: [])
        try await HostCommand.check(ioctl, ["--unix", paths.tpmSocket, "--load", "permanent", blob], purpose: "loading the TPM's state")
        try await HostCommand.check(ioctl, ["--unix", paths.tpmSocket, "-i"], purpose: "storing the TPM's state encrypted")
        try await HostCommand.check(ioctl, ["--unix", paths.tpmSocket, "-s"], purpose: "stopping the encrypted TPM")
        Self.end(paths)
        guard FileManager.default.fileExists(atPath: "\(scratch)/tpm2-00.permall") else {
            throw ViridianError(.engineFailure, "swtpm stored no encrypted state")
        }
        guard rename(scratch, paths.tpmEncryptedStateDirectory) == 0 else {
            throw ViridianError(.internalError, "cannot keep the encrypted TPM state: \(String(cString: strerror(errno)))")
        }
    }

    /// Puts the encrypted state `prepareEncryptedState` made in place of the plain one: once the VM
    /// is stored shielded, and again before a shielded VM's swtpm starts (a daemon killed between
    /// the two finishes here). Does nothing when there is none.
    public static func adoptEncryptedState(_ paths: WorkerPaths) throws {
        guard FileManager.default.fileExists(atPath: paths.tpmEncryptedStateDirectory) else { return }
        try replaceState(with: paths.tpmEncryptedStateDirectory, paths)
    }

    /// Deletes an encrypted state left by a shield that failed or was interrupted.
    public static func discardEncryptedState(_ paths: WorkerPaths) {
        for folder in [paths.tpmEncryptedStateDirectory, paths.tpmEncryptedStateDirectory + ".partial"] {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// The largest TPM state accepted from elsewhere (a swtpm state is tens of KiB).
    public static let maximumStateBytes = 4 << 20

    /// Puts a TPM state taken elsewhere (a move, a checkpoint, a backup, an export) in place of the
    /// VM's, readable by root only: written beside it and renamed, so the old state or the new one
    /// is there, never half of one.
    /// - Throws: `invalidArgument` for a state over `maximumStateBytes`.
    public static func installState(_ state: Data, _ paths: WorkerPaths) throws {
        guard state.count <= maximumStateBytes else { throw ViridianError(.invalidArgument, "the virtual TPM's state is too large") }
        try FileManager.default.createDirectory(atPath: paths.tpmStateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let partial = paths.tpmState + ".partial"
        unlink(partial)
        guard FileManager.default.createFile(atPath: partial, contents: state, attributes: [.posixPermissions: 0o600]),
              rename(partial, paths.tpmState) == 0 else {
            unlink(partial)
            throw ViridianError(.internalError, "cannot write the virtual TPM's state to \(paths.tpmState)")
        }
    }

    /// `installState` from a file (a checkpoint's, a backup point's, an export's copy).
    public static func installState(copying file: String, _ paths: WorkerPaths) throws {
        guard let state = FileManager.default.contents(atPath: file) else {
            throw ViridianError(.notFound, "cannot read the virtual TPM's state \(file)")
        }
        try installState(state, paths)
    }

    /// Puts a complete state folder in place of the VM's.
    private static func replaceState(with folder: String, _ paths: WorkerPaths) throws {
        try? FileManager.default.removeItem(atPath: paths.tpmStateDirectory)
        guard rename(folder, paths.tpmStateDirectory) == 0 else {
            throw ViridianError(.internalError, "cannot put the TPM state in place: \(String(cString: strerror(errno)))")
        }
    }

    /// Starts the VM's swtpm, daemonized, and returns once it listens on `paths.tpmSocket`; with
    /// `keyFile` its state is encrypted (a shielded VM).
    /// - Throws: `engineFailure` with swtpm's message (its log) when it does not start.
    public func start(_ paths: WorkerPaths, keyFile: String?) async throws {
        try await start(paths, keyFile: keyFile, stateDirectory: paths.tpmStateDirectory, flags: [])
    }

    private func start(_ paths: WorkerPaths, keyFile: String?, stateDirectory: String, flags: [String]) async throws {
        Self.end(paths)
        try FileManager.default.createDirectory(atPath: paths.runtimeDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        for stale in [paths.tpmSocket, paths.tpmPidFile] { try? FileManager.default.removeItem(atPath: stale) }
        let encryption = keyFile.map { ["--key", "file=\($0),format=hex,mode=aes-256-cbc"] } ?? []
        let output = try await HostCommand.run(swtpm, [
            "socket", "--tpm2",
            "--tpmstate", "dir=\(stateDirectory),mode=0600",
            "--ctrl", "type=unixio,path=\(paths.tpmSocket),mode=0600",
            "--pid", "file=\(paths.tpmPidFile)",
            "--log", "file=\(paths.tpmLog),level=1,truncate",
            "--terminate", "--daemon",
        ] + encryption + flags, timeout: Self.startTimeout)
        let deadline = ContinuousClock.now + Self.startTimeout
        while output.exitCode == 0, Self.runningProcess(paths) == nil || !FileManager.default.fileExists(atPath: paths.tpmSocket) {
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard output.exitCode == 0, Self.runningProcess(paths) != nil, FileManager.default.fileExists(atPath: paths.tpmSocket) else {
            Self.end(paths)
            let log = (try? String(contentsOfFile: paths.tpmLog, encoding: .utf8)) ?? ""
            let reason = [output.standardError, log].map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }.joined(separator: "; ")
            throw ViridianError(.engineFailure, "the virtual TPM (swtpm) did not start: \(reason.isEmpty ? "exit code \(output.exitCode)" : reason)")
        }
    }

    /// The arguments that give QEMU the TPM: a CRB interface (what Windows 11 and Linux's
    /// `tpm_crb` expect on a UEFI machine) on the emulator behind `paths.tpmSocket`.
    public static func qemuArguments(_ paths: WorkerPaths, escape: (String) -> String) -> [String] {
        ["-chardev", "socket,id=chrtpm,path=\(escape(paths.tpmSocket))",
         "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
         "-device", "tpm-crb,tpmdev=tpm0,id=tpm"]
    }

    /// Ends the VM's swtpm when one runs (its command line names this VM's pid file, so a recycled
    /// pid is never signalled) and waits for it to go.
    public static func end(_ paths: WorkerPaths) {
        guard let pid = runningProcess(paths) else { return }
        kill(pid, SIGKILL)
        let deadline = ContinuousClock.now + startTimeout
        while runningProcess(paths) == pid, ContinuousClock.now < deadline { usleep(10_000) }
    }

    /// The pid of the VM's swtpm, only when that process is it.
    static func runningProcess(_ paths: WorkerPaths) -> Int32? {
        guard let text = try? String(contentsOfFile: paths.tpmPidFile, encoding: .utf8),
              let pid = Int32(text.trimmingWhitespace()), pid > 0,
              let arguments = WorkerLauncher.commandLine(of: pid) else { return nil }
        return arguments.first?.hasSuffix("swtpm") == true && arguments.contains("file=\(paths.tpmPidFile)") ? pid : nil
    }
}
