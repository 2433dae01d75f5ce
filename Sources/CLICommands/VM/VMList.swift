import ArgumentParser

/// `viridian vm list` (Get-VM).
struct VMList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the VMs on this host.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let vms = try await options.client.listVMs()
        if options.json { return try Output.json(vms) }
        Output.table(["NAME", "STATE", "GEN", "CPUS", "MEMORY", "UPTIME"], vms.map { vm in
            [vm.name, vm.state.rawValue, String(vm.generation), String(vm.processorCount), "\(vm.memoryMiB) MiB",
             Output.duration(vm.uptimeSeconds)]
        })
    }
}
