import AgentProtocol
import APITypes
import ArgumentParser
import Foundation

/// The `viridian` command: manage VMs, disks, images and the host through viridiand.
public struct ViridianCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "viridian",
        abstract: "Manage virtual machines on this host through viridiand.",
        discussion: """
            Exit codes: 0 success, 1 failure, 2 usage error, 3 viridiand not reachable, 4 not found,
            5 wrong state or in use, 6 timed out or cancelled.
            """,
        version: Release.current,
        subcommands: [VMCommand.self, VHDCommand.self, ImageCommand.self, ICCommand.self, HostCommand.self, SwitchCommand.self, JobsCommand.self, BackupCommand.self,
                      EventsCommand.self])

    public init() {}
}

extension ViridianCommand {
    /// Parses the arguments, runs the command, and exits with the documented code on failure.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ViridianError {
            Output.error(error.message)
            Foundation.exit(CLIExit.code(for: error))
        } catch {
            // Usage errors exit 2, as documented (ArgumentParser's own code for them is 64).
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
