import ArgumentParser

/// `viridian vm save NAME` (Save-VM).
struct VMSave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save", abstract: "Save a VM's memory to disk and turn it off; the next start restores it.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        try await JobRunner.run(options, jobOptions, start: { try await options.client.saveVM(vm.name) }) { _ in
            print("VM '\(vm.name)' is Saved.")
        }
    }
}
