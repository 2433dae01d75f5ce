import ArgumentParser

/// `viridian vm resume NAME`.
struct VMResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused VM.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        let info = try await options.client.resumeVM(vm.name)
        if options.json { try Output.json(info) } else { print("VM '\(info.name)' is \(info.state.rawValue).") }
    }
}
