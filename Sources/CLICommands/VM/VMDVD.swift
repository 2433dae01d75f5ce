import ArgumentParser

/// `viridian vm dvd set NAME ISO|--eject` (Set-VMDvdDrive).
struct VMDVD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dvd", abstract: "Insert or eject an ISO.",
                                                    subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put an ISO in the VM's DVD drive (adding a drive if it has none), or eject it.")
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
}
