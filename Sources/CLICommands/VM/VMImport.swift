import APITypes
import ArgumentParser

/// `viridian vm import DIR [--name NEW]` (Import-VM): the VM an export folder holds.
struct VMImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Register the VM in an export folder (vm checkpoint export), its disks where they are, as a new VM.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The export folder (holding virtual-machine.json).") var directory: String
    @Option(help: "A name for the VM (default: the exported VM's).") var name: String?

    func run() async throws {
        let info = try await options.client.importVM(ImportVMRequest(path: absolute(directory), name: name))
        if options.json { try Output.json(info) } else { print("Imported VM '\(info.name)' (\(info.state.rawValue)).") }
    }
}
