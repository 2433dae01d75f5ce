import ArgumentParser

/// `viridian vm remove NAME [--delete-disks]` (Remove-VM).
struct VMRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Delete an Off or Saved VM.",
        discussion: "Its disk files stay unless --delete-disks (disks attached to another VM are never deleted).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Flag(help: "Also delete the VM's hard disk files.") var deleteDisks = false

    func run() async throws {
        try await options.client.removeVM(vm.name, deleteDisks: deleteDisks)
        if !options.json { print("Removed VM '\(vm.name)'.") }
    }
}
