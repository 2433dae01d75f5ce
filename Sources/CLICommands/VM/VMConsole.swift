import APIClient
import ArgumentParser
import Foundation

/// `viridian vm console NAME [--log]`: the serial console.
struct VMConsole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Attach to a VM's serial console, or print its log.",
        discussion: "Interactive: type to the guest; press Ctrl-] to detach. --log prints everything the console showed so far and exits.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Flag(help: "Print the console log so far and exit.") var log = false
    @Option(help: "With --log: at most this many bytes from the end (default 1048576, at most 16777216).") var bytes: Int?

    func run() async throws {
        if log {
            FileHandle.standardOutput.write(Data(try await options.client.consoleLog(vm.name, bytes: bytes).utf8))
            return
        }
        try await ConsoleSession(client: options.client, vm: vm.name).run()
    }
}
