import ArgumentParser

/// `viridian vm remove NAME [--delete-disks | --delete-attached-disks]` (Remove-VM).
struct VMRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Delete an Off or Saved VM.",
        discussion: """
            Its disk files stay unless --delete-disks, which deletes the disks Viridian created for it (its root disk,             vhd new disks, disks a move brought). --delete-attached-disks also deletes virtual disks that were only             attached. A disk another VM uses, or that another disk has as its parent, is never deleted.
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Flag(help: "Also delete the disks Viridian created for the VM.") var deleteDisks = false
    @Flag(help: "Also delete virtual disks that were only attached to the VM (implies --delete-disks).") var deleteAttachedDisks = false

    func run() async throws {
        try await options.client.removeVM(vm.name, deleteDisks: deleteDisks || deleteAttachedDisks, deleteAttachedDisks: deleteAttachedDisks)
        if !options.json { print("Removed VM '\(vm.name)'.") }
    }
}
