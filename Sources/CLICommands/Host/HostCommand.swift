import ArgumentParser

/// `viridian host …`: this host, its peers and its migration settings.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host", abstract: "This host: show, certificate, peers, settings, drain, shutdown.",
        subcommands: [Show.self, HostCertificateCommand.self, HostPeerCommand.self, HostTokenCommand.self, HostSet.self, HostDrain.self, HostShutdown.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the host: engine, accelerator and why, capacity, migration.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let host = try await options.client.host()
            if options.json { return try Output.json(host) }
            let memoryCopy = host.memoryCopyPauseReason.map { "paused for the copy — \($0)" }
                ?? "live (a moving guest keeps running while its memory is copied)"
            let machineTypes = host.newestMachineTypes.map { "new VMs get " + $0.joined(separator: " (Generation 1), ") + " (Generation 2)" }
            var fields: [(String, String)] = [("Host", host.hostName), ("Viridian", host.version), ("QEMU", host.qemuVersion),
                          ("Memory copy", memoryCopy), ("Machine types", machineTypes ?? "-"),
                          ("Accelerator", "\(host.accelerator.rawValue.uppercased()) — \(host.acceleratorReason)"),
                          ("Logical processors", String(host.logicalProcessors)), ("Memory", "\(host.memoryMiB) MiB"),
                          ("Memory for VMs", host.availableMemoryMiB.map { "\($0) MiB free" } ?? "-"),
                          ("VMs", "\(host.virtualMachines) (\(host.runningVirtualMachines) with a worker)"),
                          ("Migration listener", host.migrationListener ?? "off (no incoming moves)"),
                          ("Certificate", host.certificateFingerprint.map { "SHA-256 \($0)" } ?? "-")]
            if let settings = host.settings {
                fields += [("Max migrations", "\(settings.maxMigrations) live, \(settings.maxStorageMigrations) storage"),
                           ("Migration networks", settings.migrationNetworks.isEmpty ? "any" : settings.migrationNetworks.joined(separator: ", "))]
            }
            Output.fields(fields + [("State directory", host.stateDirectory), ("Started", Output.time(host.startedAt))])
            if let features = host.networkFeatures {
                print("\nNetwork features:")
                Output.table(["FEATURE", "USABLE", "DETAIL"], features.map { [$0.name, $0.usable ? "yes" : "no", $0.detail] })
            }
        }
    }
}
