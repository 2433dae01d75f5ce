import APITypes
import ArgumentParser

/// `viridian vm exec NAME -- CMD ARGS…`: run a program in the guest without networking (PowerShell Direct).
struct VMExec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a program in the guest through the session service; its exit code becomes ours.",
        discussion: "Standard output and error stream back as the program writes them. With -i our standard input goes to the program. Example: viridian vm exec web1 -- uname -a")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Flag(name: .shortAndLong, help: "Send our standard input to the program.") var interactive = false
    @Option(name: .customLong("env"), help: "Set KEY=VALUE in the program's environment (repeatable).") var environment: [String] = []
    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.") var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else { throw ValidationError("name the program after --, e.g. viridian vm exec \(vm.name) -- uname -a") }
        var variables: [String: String] = [:]
        for item in environment {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--env takes KEY=VALUE, not '\(item)'")
            }
            variables[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        let start = SessionStart(arguments: command, terminal: false, columns: 80, rows: 24, environment: variables)
        let code = try await GuestSession(client: options.client, vm: vm.name).run(start, forwardInput: interactive)
        if code != 0 { throw ExitCode(code) }
    }
}
