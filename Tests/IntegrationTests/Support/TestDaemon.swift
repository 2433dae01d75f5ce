import APIClient
import APITypes
import Foundation
import HostTools
import Testing

/// Where the built executables are: `$VIRIDIAN_BIN_DIR`, else this package's `.build/debug`.
enum BuildProducts {
    static var directory: String {
        if let override = ProcessInfo.processInfo.environment["VIRIDIAN_BIN_DIR"] { return override }
        return "\(packageRoot)/.build/debug"
    }

    /// This package's folder.
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var viridiand: String { "\(directory)/viridiand" }
    static var viridian: String { "\(directory)/viridian" }
}

/// What the host has, for skips that say what is missing.
enum HostSupport {
    static let hasQEMU = ["/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-img"].allSatisfy(FileManager.default.fileExists(atPath:))
    static let hasBuild = FileManager.default.isExecutableFile(atPath: BuildProducts.viridiand)
        && FileManager.default.isExecutableFile(atPath: BuildProducts.viridian)
    static let hasGuestTools = ["/bin/busybox", "/usr/bin/cpio", "/sbin/mkfs.ext4"].allSatisfy(FileManager.default.fileExists(atPath:))
    static let canBoot = hasQEMU && hasBuild && hasGuestTools
    static let missing = "needs qemu-system-x86, qemu-utils, busybox-static, cpio, e2fsprogs and a built viridiand/viridian (run scripts/setup.sh, then swift build)"
}

/// The result of one CLI run.
struct CLIResult {
    var exitCode: Int32
    var output: String
    var error: String
}

/// A real viridiand process with its own state directory, and the real CLI pointed at it.
final class TestDaemon: @unchecked Sendable {
    let stateDirectory: String
    let socket: String
    private(set) var process: Process?
    var environment: [String: String] = [:]
    /// More viridiand arguments (`--host-name`, `--migration-listen`).
    var arguments: [String] = []
    /// A command viridiand runs under, such as `ip netns exec NS` (it execs, so the pid is viridiand's).
    var launchPrefix: [String] = []

    init() throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-test-\(UUID().uuidString.prefix(8))").path
        socket = "\(stateDirectory)/viridiand.sock"
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
    }

    var client: ViridianClient { ViridianClient(socketPath: socket) }

    /// Runs `body` with a started daemon, then tears it down whether `body` succeeded or not.
    static func with(_ body: (TestDaemon) async throws -> Void) async throws {
        let daemon = try TestDaemon()
        do {
            try await daemon.start()
            try await body(daemon)
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }

    /// Starts viridiand and waits until its API answers.
    func start() async throws {
        let process = Process()
        let command = launchPrefix + [BuildProducts.viridiand, "--state-dir", stateDirectory, "--socket", socket,
                                      "--log-level", "debug"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let logPath = "\(stateDirectory)/viridiand.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await client.host()) != nil { return }
            guard process.isRunning else { throw ViridianError(.unavailable, "viridiand exited: \(daemonLog)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ViridianError(.timeout, "viridiand did not come up")
    }

    /// Stops viridiand with SIGTERM (VMs keep running) and waits for it to exit.
    func stop() async {
        guard let process, process.isRunning else { return }
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Kills viridiand at once (SIGKILL), as a crash would.
    func kill() async {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Turns every VM off, stops the daemon, deletes the state directory.
    func tearDown() async {
        if let vms = try? await client.listVMs() {
            for vm in vms where vm.state != .off && vm.state != .saved {
                _ = await cli(["vm", "stop", vm.name, "--turn-off"])
            }
        }
        await stop()
        for folder in ["run", "exports"] {
            let pidFiles = (try? FileManager.default.subpathsOfDirectory(atPath: "\(stateDirectory)/\(folder)"))?
                .filter { $0.hasSuffix("qemu.pid") || $0.hasSuffix("qsd.pid") } ?? []
            for pidFile in pidFiles {
                if let text = try? String(contentsOfFile: "\(stateDirectory)/\(folder)/\(pidFile)", encoding: .utf8), let pid = Int32(text.trimmingWhitespace()) {
                    Foundation.kill(pid, SIGKILL)
                }
            }
        }
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    var daemonLog: String { (try? String(contentsOfFile: "\(stateDirectory)/viridiand.log", encoding: .utf8)) ?? "" }

    /// Runs the real `viridian` CLI against this daemon.
    func cli(_ arguments: [String], input: String? = nil) async -> CLIResult {
        await Self.run(BuildProducts.viridian, arguments, environment: ["VIRIDIAN_HOST": socket], input: input)
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) async -> CLIResult {
        do {
            // The CLI waits for jobs as long as they take (a first image build downloads a kernel).
            let result = try await HostCommand.run(executable, arguments, environment: environment, input: input, timeout: .seconds(1800))
            return CLIResult(exitCode: result.exitCode, output: result.standardOutput, error: result.standardError)
        } catch {
            return CLIResult(exitCode: -1, output: "", error: "\(error)")
        }
    }

    /// Waits until the VM's console log contains `text`.
    func waitForConsole(_ vm: String, contains text: String, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let log = try? await client.consoleLog(vm), log.contains(text) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? await client.consoleLog(vm)) ?? ""
        Issue.record("console of \(vm) never showed '\(text)'; last output: \(log.suffix(600))")
        throw ViridianError(.timeout, "console wait")
    }

    /// Builds (cached) the test guest and creates a VM from it.
    func createTestVM(_ name: String, extra: [String] = []) async throws {
        let build = await cli(["image", "test-guest"])
        try #require(build.exitCode == 0, "image build failed: \(build.error)")
        // Without a video adapter unless asked: the suite's guests talk over their serial consoles.
        let video = extra.contains("--video") ? [] : ["--video", "off"]
        let create = await cli(["vm", "create", name, "--image", "test-guest", "--memory", "256M"] + video + extra)
        try #require(create.exitCode == 0, "create failed: \(create.error)")
    }

    /// Decodes `--json` output.
    func json<T: Decodable>(_ type: T.Type, _ arguments: [String]) async throws -> T {
        let result = await cli(arguments + ["--json"])
        try #require(result.exitCode == 0, "\(arguments) failed: \(result.error)")
        return try WireJSON.decoder().decode(T.self, from: Data(result.output.utf8))
    }
}
