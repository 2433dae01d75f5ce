import ArgumentParser

/// `viridian vm start NAME` (Start-VM): starts an Off VM or restores a Saved one.
struct VMStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a VM, or restore a Saved one.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        try await JobRunner.run(options, jobOptions, start: { try await options.client.startVM(vm.name) }) { job in
            print("VM '\(vm.name)' is \(job.statusMessage ?? "running").")
        }
    }
}
