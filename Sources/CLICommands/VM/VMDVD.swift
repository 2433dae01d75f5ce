import ArgumentParser

/// `viridian vm dvd set NAME ISO|--eject` (Set-VMDvdDrive) and `vm dvd remove NAME` (Remove-VMDvdDrive).
struct VMDVD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dvd", abstract: "Insert or eject an ISO; remove a DVD drive.",
                                                    subcommands: [Set.self, Remove.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put an ISO in the VM's DVD drive (adding a drive if it has none), or eject it.",
            discussion: "Works while the VM runs: the medium changes at once; a running Generation 2 VM without a DVD drive gets one on a SCSI controller it has (IDE drives are added only while the VM is Off).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The ISO file.") var iso: String?
        @Flag(help: "Eject the disc.") var eject = false

        func validate() throws {
            guard (iso == nil) == eject else { throw ValidationError("give an ISO, or --eject") }
        }

        func run() async throws {
            let info = try await options.client.setDVD(vm.name, path: iso.map(absolute))
            if options.json { try Output.json(info) } else { print(eject ? "Ejected." : "Inserted \(absolute(iso ?? "")).") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a DVD drive (the first, or the one at a location).",
            discussion: "While the VM runs, only a drive on a SCSI controller can go (IDE has no hot-plug, as in Hyper-V).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @OptionGroup var at: VMDisk.Location

        func run() async throws {
            let info = try await options.client.removeDVDDrive(vm.name, controllerType: at.controllerType,
                                                               controllerNumber: at.controllerNumber, location: at.location)
            if options.json { try Output.json(info) } else { print("Removed the DVD drive from VM '\(info.name)'.") }
        }
    }
}
