import APITypes
import Subprocess
import SystemPackage

/// What a finished host command printed and how it ended.
public struct CommandOutput: Sendable {
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String

    /// The last lines of standard error, for an error message.
    public var errorSummary: String {
        let lines = standardError.split(separator: "\n").suffix(3).joined(separator: "; ")
        return lines.isEmpty ? "exit code \(exitCode)" : lines
    }
}

/// Runs host programs (`qemu-img`, `apt-get`, `mkfs.ext4`…) without a shell.
/// Cancelling the calling task kills the program, and so does its timeout: a hung program fails
/// its operation with a message and never blocks anything else.
public enum HostCommand {
    /// How much of a program's output is kept.
    public static let outputLimit = 4 << 20
    /// How long a program may run unless its caller says otherwise.
    public static let defaultTimeout = Duration.seconds(300)

    /// Runs `executable` and returns its output, whatever its exit code.
    /// - Throws: `timeout` (and the program is killed) when it runs longer than `timeout`.
    public static func run(_ executable: String, _ arguments: [String], workingDirectory: String? = nil,
                           environment: [String: String] = [:], input: String? = nil,
                           timeout: Duration = defaultTimeout) async throws -> CommandOutput {
        try await withThrowingTaskGroup(of: CommandOutput?.self) { group in
            group.addTask {
                try await runToEnd(executable, arguments, workingDirectory: workingDirectory, environment: environment, input: input)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let output = first else {
                let name = executable.split(separator: "/").last.map(String.init) ?? executable
                throw ViridianError(.timeout, "\(name) \(arguments.first ?? "") did not finish within \(timeout.components.seconds) s and was stopped")
            }
            return output
        }
    }

    private static func runToEnd(_ executable: String, _ arguments: [String], workingDirectory: String?,
                                 environment: [String: String], input: String?) async throws -> CommandOutput {
        do {
            let result = try await Subprocess.run(
                executable.hasPrefix("/") ? .path(FilePath(executable)) : .name(executable),
                arguments: Arguments(arguments),
                environment: environmentValue(environment),
                workingDirectory: workingDirectory.map { FilePath($0) },
                input: .string(input ?? ""),
                output: .string(limit: outputLimit),
                error: .string(limit: outputLimit))
            return CommandOutput(exitCode: exitCode(result.terminationStatus),
                                 standardOutput: result.standardOutput,
                                 standardError: result.standardError)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw ViridianError(.engineFailure, "could not run \(executable)", cause: error)
        }
    }

    /// Runs `executable` and throws an error naming `purpose` unless it exits 0.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], purpose: String,
                             workingDirectory: String? = nil, environment: [String: String] = [:],
                             timeout: Duration = defaultTimeout) async throws -> CommandOutput {
        let output = try await run(executable, arguments, workingDirectory: workingDirectory, environment: environment,
                                   timeout: timeout)
        guard output.exitCode == 0 else {
            throw ViridianError(.engineFailure, "\(purpose) failed: \(output.errorSummary)")
        }
        return output
    }

    /// Runs `executable`, handing each chunk of its standard output to `onOutput` as it arrives
    /// (for programs like `qemu-img convert -p` that report progress); throws unless it exits 0.
    public static func stream(_ executable: String, _ arguments: [String], purpose: String,
                              onOutput: @escaping @Sendable (String) -> Void) async throws {
        let result: ExecutionResult<Void, SequenceOutput, StringOutput<UTF8>>
        do {
            let configuration = Configuration(
                executable: executable.hasPrefix("/") ? .path(FilePath(executable)) : .name(executable),
                arguments: Arguments(arguments))
            result = try await Subprocess.run(configuration, input: .none, output: .sequence,
                                              error: .string(limit: outputLimit)) { execution in
                for try await chunk in execution.standardOutput {
                    onOutput(chunk.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
                }
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            try Task.checkCancellation()
            throw ViridianError(.engineFailure, "could not run \(executable)", cause: error)
        }
        try Task.checkCancellation()
        let output = CommandOutput(exitCode: exitCode(result.terminationStatus), standardOutput: "",
                                   standardError: result.standardError)
        guard output.exitCode == 0 else {
            throw ViridianError(.engineFailure, "\(purpose) failed: \(output.errorSummary)")
        }
    }

    private static func exitCode(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    private static func environmentValue(_ overrides: [String: String]) -> Environment {
        overrides.isEmpty ? .inherit : .inherit.updating(overrides.mapValues { Optional($0) }.reduce(into: [:]) {
            $0[Environment.Key(stringLiteral: $1.key)] = $1.value
        })
    }
}
