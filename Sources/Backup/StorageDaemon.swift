import APITypes
import Foundation
import HostTools
import Logging
import QMP

/// A `qemu-storage-daemon` for block jobs on the disks of a VM that is Off: the same QMP block
/// layer as a running VM's worker (nodes, dirty bitmaps, backup jobs) without a machine. It lives for
/// one operation, in `runtimeDirectory`.
final class StorageDaemon: Sendable {
    let client: QMPClient
    private let pid: Int32
    private let runtimeDirectory: String

    private init(client: QMPClient, pid: Int32, runtimeDirectory: String) {
        self.client = client
        self.pid = pid
        self.runtimeDirectory = runtimeDirectory
    }

    /// Starts one (it daemonizes once its monitor listens) and connects to its monitor.
    /// - Throws: `missingDependency` naming `qemu-utils`; `engineFailure` with its own message.
    static func launch(in runtimeDirectory: String, logger: Logger) async throws -> StorageDaemon {
        let binary = try HostExecutable.locate("qemu-storage-daemon", package: "qemu-utils")
        try? FileManager.default.removeItem(atPath: runtimeDirectory)
        try FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true)
        let socket = "\(runtimeDirectory)/qmp.sock"
        let pidFile = "\(runtimeDirectory)/qsd.pid"
        let output = try await HostCommand.run(binary, [
            "--chardev", "socket,id=qmp,path=\(socket),server=on,wait=off", "--monitor", "chardev=qmp",
            "--daemonize", "--pidfile", pidFile,
        ])
        guard output.exitCode == 0 else {
            try? FileManager.default.removeItem(atPath: runtimeDirectory)
            throw ViridianError(.engineFailure, "qemu-storage-daemon could not start: \(output.errorSummary)")
        }
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingWhitespace()) else {
            throw ViridianError(.engineFailure, "qemu-storage-daemon started but wrote no pid file")
        }
        do {
            let client = try await QMPClient.connect(socketPath: socket, logger: logger)
            return StorageDaemon(client: client, pid: pid, runtimeDirectory: runtimeDirectory)
        } catch {
            kill(pid, SIGKILL)
            try? FileManager.default.removeItem(atPath: runtimeDirectory)
            throw error
        }
    }

    /// At viridiand's start: ends a storage daemon an earlier viridiand left running in
    /// `runtimeDirectory` (its pid file names it; a pid now held by another program is left alone).
    static func killLeftover(in runtimeDirectory: String, logger: Logger) {
        guard let text = try? String(contentsOfFile: "\(runtimeDirectory)/qsd.pid", encoding: .utf8),
              let pid = Int32(text.trimmingWhitespace()), pid > 1,
              let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              String(decoding: command, as: UTF8.self).contains("qemu-storage-daemon") else { return }
        logger.info("ending a storage daemon an earlier viridiand left running", metadata: ["pid": "\(pid)"])
        kill(pid, SIGKILL)
    }

    /// Ends it: `quit` closes every node (storing persistent bitmaps); one whose monitor does not
    /// close within 10 s is killed.
    func stop() async {
        let client = client
        try? await client.quit()
        let closed = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in client.events() {}
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !closed { kill(pid, SIGKILL) }
        client.close()
        try? FileManager.default.removeItem(atPath: runtimeDirectory)
    }
}
