import AgentProtocol
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Installs or upgrades the agent in place: checks the new binary runs, keeps the previous one,
/// restarts the agent without a reboot, and rolls back if the new one does not negotiate in time.
public struct AgentInstaller: Sendable {
    public let paths: GuestPaths
    /// Where the installed agent lives.
    public let target: String
    /// How long the new agent has to negotiate with the host before the rollback.
    public static let negotiationTimeout = 15.0

    public init(paths: GuestPaths, target: String) {
        self.paths = paths
        self.target = target
    }

    /// The release a binary reports (`BINARY version`), or nil when it does not run.
    public static func release(of binary: String) -> String? {
        guard FileManager.default.isExecutableFile(atPath: binary),
              let process = try? ProcessLauncher.launch([binary, "version"], terminal: false, columns: 80, rows: 24,
                                                        environment: [:]) else { return nil }
        close(process.input)
        if let error = process.error { close(error) }
        var output: [UInt8] = []
        while let bytes = try? FileDescriptor.read(process.output, count: 4096), !bytes.isEmpty, output.count < 4096 {
            output += bytes
        }
        close(process.output)
        guard ProcessLauncher.waitExitCode(process.pid) == 0 else { return nil }
        let text = GuestText.trimmed(String(decoding: output, as: UTF8.self))
        return Release(text) == nil ? nil : text
    }

    /// What `install` decided.
    public enum Outcome: Sendable, Equatable {
        case upToDate(installed: String, offered: String)
        case installing(from: String?, to: String)
    }

    /// Installs `source` unless the installed release is the same or newer (`force` reinstalls).
    /// The restart and the rollback watch run in a detached process, so this returns at once.
    public func install(source: String, force: Bool) throws -> Outcome {
        // Stage first: the source may lack the execute bit (a copied file) or sit on read-only media.
        let fileManager = FileManager.default
        let previous = "\(target).previous"
        let staged = "\(target).new"
        try? fileManager.removeItem(atPath: staged)
        try fileManager.copyItem(atPath: source, toPath: staged)
        chmod(staged, 0o755)
        guard let offered = Self.release(of: staged) else {
            try? fileManager.removeItem(atPath: staged)
            throw InstallError("\(source) is not a working viridian-guest binary")
        }
        let installed = Self.release(of: target)
        if !force, let installed, let current = Release(installed), let new = Release(offered), current >= new {
            try? fileManager.removeItem(atPath: staged)
            return .upToDate(installed: installed, offered: offered)
        }
        if fileManager.fileExists(atPath: target) {
            try? fileManager.removeItem(atPath: previous)
            try fileManager.copyItem(atPath: target, toPath: previous)
        }
        guard rename(staged, target) == 0 else { throw InstallError(SystemError(operation: "rename", code: errno).description) }
        // The watchdog runs from a copy of this (known good) binary, never from the new one it checks.
        let watchdog = "\(paths.runtime)/update-watchdog"
        try FileManager.default.createDirectory(atPath: paths.runtime, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: watchdog)
        try Data(contentsOf: URL(fileURLWithPath: "/proc/self/exe")).write(to: URL(fileURLWithPath: watchdog))
        chmod(watchdog, 0o755)
        try ProcessLauncher.spawnDetached([watchdog, "update-watchdog", "--expect", offered, "--target", target])
        return .installing(from: installed, to: offered)
    }

    /// Restarts the agent and waits for the expected release to negotiate; otherwise restores the
    /// previous binary and restarts again. Runs detached from the agent it restarts.
    public func watch(expecting release: String) -> Bool {
        try? FileManager.default.removeItem(atPath: paths.negotiatedFile)
        AgentService.restart()
        let deadline = Date().addingTimeInterval(Self.negotiationTimeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: paths.negotiatedFile, encoding: .utf8),
               text.split(separator: " ").first.map(String.init) == release {
                AgentLog.write("upgrade to \(release) negotiated")
                return true
            }
            sleep(seconds: 0.5)
        }
        let previous = "\(target).previous"
        guard FileManager.default.fileExists(atPath: previous), rename(previous, target) == 0 else {
            AgentLog.write("upgrade to \(release) failed and there is no previous agent to restore")
            return false
        }
        AgentLog.write("upgrade to \(release) did not negotiate within \(Int(Self.negotiationTimeout)) s; rolled back")
        AgentService.restart()
        return false
    }
}

/// An installation that could not go ahead.
public struct InstallError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Starts and stops the agent through whichever init system the guest has.
enum AgentService {
    static func restart() {
        let candidates: [[String]] = [
            ["/etc/init.d/viridian-guest", "restart"],
            ["systemctl", "restart", "viridian-guest.service"],
        ]
        for command in candidates where command[0].hasPrefix("/") ? FileManager.default.fileExists(atPath: command[0]) : true {
            guard let process = try? ProcessLauncher.launch(command, terminal: false, columns: 80, rows: 24, environment: [:])
            else { continue }
            close(process.input)
            close(process.output)
            if let error = process.error { close(error) }
            if ProcessLauncher.waitExitCode(process.pid) == 0 { return }
        }
        AgentLog.write("could not restart the agent: no init script or systemd unit")
    }
}
