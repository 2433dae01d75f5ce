import ArgumentParser

/// `viridian vm pause NAME`.
struct VMPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause a running VM's processors.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        let info = try await options.client.pauseVM(vm.name)
        if options.json { try Output.json(info) } else { print("VM '\(info.name)' is \(info.state.rawValue).") }
    }
}
