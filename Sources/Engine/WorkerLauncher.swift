import APITypes
import Foundation
import HostTools

/// Starts QEMU worker processes. Each worker daemonizes into its own session, so it keeps
/// running when viridiand restarts, and viridiand finds it again through its pid file and QMP socket.
public struct WorkerLauncher: Sendable {
    public let qemu: QEMUBinary

    public init(qemu: QEMUBinary) {
        self.qemu = qemu
    }

    /// Runs QEMU with `commandLine` and returns the worker's pid once QEMU has initialised
    /// (QEMU's `-daemonize` parent exits only then). A VM with a virtual TPM gets its swtpm first
    /// (manufactured on its first start), and loses it again when QEMU does not start.
    /// - Throws: `engineFailure` with QEMU's own message when it refuses to start;
    ///   `missingDependency` when the VM has a TPM and swtpm is not installed.
    public func launch(_ commandLine: QEMUCommandLine) async throws -> Int32 {
        let paths = commandLine.paths
        try FileManager.default.createDirectory(atPath: paths.runtimeDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: paths.vmDirectory, withIntermediateDirectories: true)
        for stale in [paths.qmpSocket, paths.consoleSocket, paths.pidFile] {
            try? FileManager.default.removeItem(atPath: stale)
        }
        if commandLine.hasTPM {
            let tpm = try SoftwareTPM.locate()
            if commandLine.shieldingKeyFile != nil { try SoftwareTPM.adoptEncryptedState(paths) }
            try await tpm.manufactureIfNeeded(paths, keyFile: commandLine.shieldingKeyFile)
            try await tpm.start(paths, keyFile: commandLine.shieldingKeyFile)
        }
        let output = try await HostCommand.run(qemu.path, commandLine.arguments)
        guard output.exitCode == 0 else {
            SoftwareTPM.end(paths)
            throw ViridianError(.engineFailure, "QEMU could not start the VM: \(output.standardError.trimmingWhitespace())")
        }
        guard let pid = Self.runningWorker(paths) else {
            SoftwareTPM.end(paths)
            throw ViridianError(.engineFailure, "QEMU started but wrote no pid file at \(paths.pidFile)")
        }
        return pid
    }

    /// The pid in the worker's pid file, only when that process is this VM's QEMU: its command line
    /// names this pid file and carries the VM's id as `-uuid`. After a host reboot the file may name
    /// a pid that now belongs to another process; that process is never taken for the worker.
    public static func runningWorker(_ paths: WorkerPaths) -> Int32? {
        guard let text = try? String(contentsOfFile: paths.pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingWhitespace()), pid > 0,
              let arguments = commandLine(of: pid) else { return nil }
        return WorkerIdentity.matches(arguments, paths: paths) ? pid : nil
    }

    /// Kills the worker when it runs (as `runningWorker` verifies it); true when there was one.
    @discardableResult
    public static func killWorker(_ paths: WorkerPaths) -> Bool {
        guard let pid = runningWorker(paths) else { return false }
        return kill(pid, SIGKILL) == 0
    }

    /// A process's arguments from `/proc/PID/cmdline`; nil when it does not exist.
    static func commandLine(of pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Removes the worker's runtime folder (after it exited), ending its swtpm if it outlived QEMU.
    public static func cleanUp(_ paths: WorkerPaths) {
        SoftwareTPM.end(paths)
        try? FileManager.default.removeItem(atPath: paths.runtimeDirectory)
    }
}
