import ArgumentParser

/// `viridian vm restart NAME`.
struct VMRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Reset a VM, as its reset button would.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        let info = try await options.client.restartVM(vm.name)
        if options.json { try Output.json(info) } else { print("VM '\(info.name)' is \(info.state.rawValue).") }
    }
}
