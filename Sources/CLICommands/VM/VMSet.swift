import APITypes
import ArgumentParser

/// `viridian vm set NAME …` (Set-VM), for an Off VM.
struct VMSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change an Off VM's settings.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Option(help: "Startup memory, e.g. 1G.") var memory: String?
    @Option(help: "Virtual processors.") var cpus: Int?
    @Option(help: "Notes.") var notes: String?
    @Option(help: "Boot order, comma-separated: HardDisk,DVD,Network.") var bootOrder: String?
    @Option(help: "Kernel command line (direct kernel boot only).") var append: String?
    @Option(help: ArgumentHelp("QEMU machine type: 'latest' for this host's newest, or a versioned one (pc-i440fx-7.2, pc-q35-10.0).",
                               discussion: "A VM keeps the machine type it was created with across engine upgrades; 'latest' upgrades it (Update-VMVersion). A VM can only run on, or move to, a host whose QEMU offers its type."))
    var machineType: String?

    func run() async throws {
        let order = try bootOrder.map { text in
            try text.split(separator: ",").map { item in
                guard let device = BootDevice.allCases.first(where: { $0.rawValue.lowercased() == item.lowercased() }) else {
                    throw ValidationError("boot devices are HardDisk, DVD and Network, not '\(item)'")
                }
                return device
            }
        }
        let info = try await options.client.setVM(vm.name, SetVMRequest(
            processorCount: cpus, memoryMiB: try memory.map(ByteSize.parseMiB), notes: notes, bootOrder: order, append: append, machineType: machineType))
        if options.json { try Output.json(info) } else { print("Updated VM '\(info.name)'.") }
    }
}
