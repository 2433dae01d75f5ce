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
    /// (QEMU's `-daemonize` parent exits only then).
    /// - Throws: `engineFailure` with QEMU's own message when it refuses to start.
    public func launch(_ commandLine: QEMUCommandLine) async throws -> Int32 {
        let paths = commandLine.paths
        try FileManager.default.createDirectory(atPath: paths.runtimeDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: paths.vmDirectory, withIntermediateDirectories: true)
        for stale in [paths.qmpSocket, paths.consoleSocket, paths.pidFile] {
            try? FileManager.default.removeItem(atPath: stale)
        }
        let output = try await HostCommand.run(qemu.path, commandLine.arguments)
        guard output.exitCode == 0 else {
            throw ViridianError(.engineFailure, "QEMU could not start the VM: \(output.standardError.trimmingWhitespace())")
        }
        guard let pid = Self.readPID(paths.pidFile) else {
            throw ViridianError(.engineFailure, "QEMU started but wrote no pid file at \(paths.pidFile)")
        }
        return pid
    }

    /// The pid in `pidFile` if that process is alive.
    public static func readPID(_ pidFile: String) -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingWhitespace()), pid > 0, kill(pid, 0) == 0 || errno == EPERM
        else { return nil }
        return pid
    }

    /// Removes the worker's runtime folder (after it exited).
    public static func cleanUp(_ paths: WorkerPaths) {
        try? FileManager.default.removeItem(atPath: paths.runtimeDirectory)
    }
}
