import APITypes
import ArgumentParser
import Foundation

/// `viridian vm shell NAME`: an interactive shell in the guest on a pseudo-terminal, without networking.
struct VMShell: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell", abstract: "Open an interactive shell in the guest (session service, with a terminal).",
        discussion: "Leave with `exit`. The shell is /bin/sh unless --shell names another.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Option(help: "The shell to run in the guest.") var shell = "/bin/sh"

    func run() async throws {
        let size = GuestSession.terminalSize()
        let start = SessionStart(arguments: [shell, "-l"], terminal: true, columns: size.columns, rows: size.rows,
                                 environment: ["TERM": ProcessInfo.processInfo.environment["TERM"] ?? "xterm-256color"])
        let terminal = RawTerminal()
        defer { terminal.restore() }
        let code = try await GuestSession(client: options.client, vm: vm.name).run(start, forwardInput: true, terminal: terminal)
        if code != 0 { throw ExitCode(code) }
    }
}
