// Helpers shared by the benchmarks: output, statistics, and a private viridiand.
import APIClient
import APITypes
import Foundation

/// Prints a line at once, even when standard output is a file.
public func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

public func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

public func format(_ seconds: Double) -> String { String(format: "%.3f s", seconds) }

public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Kills a bare QEMU started with `-daemonize -pidfile pidFile`. Call it before
/// `BenchDaemon.shutDown()`, which removes the folder the pid file is in.
public func killBareQEMU(pidFile: String) {
    if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingWhitespace()) {
        kill(pid, SIGKILL)
    }
}

/// A viridiand of its own in a temporary folder, with the built executables beside the benchmark's.
public final class BenchDaemon: @unchecked Sendable {
    public let binDirectory: String
    public let work: String
    public let state: String
    public let socket: String
    public let client: ViridianClient
    private let process = Process()

    /// Starts viridiand with `arguments` added (`--host-name`, `--migration-listen`).
    public init(arguments: [String] = []) async throws {
        binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        work = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-bench-\(UUID().uuidString.prefix(8))").path
        state = "\(work)/state"
        socket = "\(state)/viridiand.sock"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "\(binDirectory)/viridiand")
        process.arguments = ["--state-dir", state, "--socket", socket, "--log-level", "warning"] + arguments
        try process.run()
        client = ViridianClient(socketPath: socket)
        while (try? await client.host()) == nil { try await Task.sleep(for: .milliseconds(50)) }
    }

    /// Stops the daemon, turning its VMs off first, and removes the folder.
    public func shutDown() async {
        for vm in (try? await client.listVMs()) ?? [] where vm.state != .off && vm.state != .saved {
            _ = try? await client.waitForJob(try await client.stopVM(vm.name, StopVMRequest(turnOff: true)).id)
        }
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: work)
    }
}

/// Waits (at most 120 s) until the guest's VSS service answers: a freeze goes through it.
public func waitForVSS(_ client: ViridianClient, vm: String) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while try await client.integrationServices(vm).first(where: { $0.name == "vss" })?.primaryStatus != "OK" {
        guard ContinuousClock.now < deadline else { throw ViridianError(.timeout, "the VSS service of VM '\(vm)' never came up") }
        try await Task.sleep(for: .milliseconds(100))
    }
}
