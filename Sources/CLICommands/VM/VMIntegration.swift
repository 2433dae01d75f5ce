import APITypes
import ArgumentParser

/// `viridian vm ic …`: a VM's integration services (Get-/Enable-/Disable-VMIntegrationService).
struct VMIntegration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ic", abstract: "Show and toggle a VM's integration services.",
        discussion: "Services: heartbeat, shutdown, timesync, kvp, vss, fcopy, session. fcopy is off by default, as in Hyper-V.",
        subcommands: [List.self, Enable.self, Disable.self, VMInsertIntegrationDisk.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the VM's integration services with their status and negotiated version.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument

        func run() async throws {
            let services = try await options.client.integrationServices(vm.name)
            if options.json { return try Output.json(services) }
            Output.table(["NAME", "SERVICE", "ENABLED", "STATUS", "VERSION", "AGENT", "DETAIL"], services.map { service in
                [service.name, service.displayName, service.enabled ? "yes" : "no", service.primaryStatus,
                 service.version.map { "\($0)\(service.release.map { " (\($0))" } ?? "")" } ?? "-",
                 service.agent ?? "-", service.secondaryStatus ?? ""]
            })
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn a service on (at once on a running VM).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "heartbeat, shutdown, timesync, kvp, vss, fcopy or session") var service: String

        func run() async throws {
            try await VMIntegration.set(options, vm.name, service, enabled: true)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a service off; its port disappears from the guest at once on a running VM.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "heartbeat, shutdown, timesync, kvp, vss, fcopy or session") var service: String

        func run() async throws {
            try await VMIntegration.set(options, vm.name, service, enabled: false)
        }
    }

    static func set(_ options: GlobalOptions, _ vm: String, _ service: String, enabled: Bool) async throws {
        let services = try await options.client.setIntegrationService(vm, service.lowercased(), enabled: enabled)
        if options.json { return try Output.json(services) }
        print("\(enabled ? "Enabled" : "Disabled") \(service.lowercased()) on VM '\(vm)'.")
    }
}

/// `viridian vm ic insert-disk NAME`: the integration services setup disk.
struct VMInsertIntegrationDisk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert-disk", abstract: "Insert the integration services setup disk (an ISO with the agent and install.sh).",
        discussion: "In the guest: mount /dev/sr0 /mnt && sh /mnt/install.sh [--force]. The installer shows the installed and offered releases, upgrades only when needed, and restarts the agent without a reboot.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        try await JobRunner.run(options, jobOptions, start: { try await options.client.insertIntegrationDisk(vm.name) }) { job in
            print(job.statusMessage ?? "inserted")
        }
    }
}
