import ArgumentParser

/// `viridian host show`.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "host", abstract: "This host.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the host: engine, accelerator and why, capacity.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let host = try await options.client.host()
            if options.json { return try Output.json(host) }
            Output.fields([("Host", host.hostName), ("Viridian", host.version), ("QEMU", host.qemuVersion),
                           ("Accelerator", "\(host.accelerator.rawValue.uppercased()) — \(host.acceleratorReason)"),
                           ("Logical processors", String(host.logicalProcessors)), ("Memory", "\(host.memoryMiB) MiB"),
                           ("VMs", "\(host.virtualMachines) (\(host.runningVirtualMachines) with a worker)"),
                           ("State directory", host.stateDirectory), ("Started", Output.time(host.startedAt))])
        }
    }
}
