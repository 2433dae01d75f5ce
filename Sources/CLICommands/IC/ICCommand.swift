import APITypes
import ArgumentParser

/// `viridian ic …`: integration services across every VM on the host.
struct ICCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ic", abstract: "Integration services versions across every VM, and in-place upgrades.",
        subcommands: [Report.self, Update.self])

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every VM with its integration services release, status and whether an upgrade is due.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let report = try await options.client.integrationReport()
            if options.json { return try Output.json(report) }
            Output.table(["VM", "STATE", "VERSION", "HOST", "AGENT", "HEARTBEAT", "UPGRADE"], report.map { entry in
                [entry.vm, entry.state.rawValue, entry.version ?? "-", entry.hostVersion, entry.agent ?? "-", entry.status,
                 entry.upgradeDue ? "due" : "-"]
            })
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upgrade running agents in place (file copy + session), a few VMs at a time.",
            discussion: "The guest keeps its previous agent and rolls back by itself if the new one does not come up. Exit code 1 when any VM failed or rolled back.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @Argument(help: "VMs to upgrade.") var names: [String] = []
        @Flag(help: "Every running VM.") var all = false
        @Flag(help: "Reinstall even when the guest already runs the host's release.") var force = false
        @Option(help: "Install this agent binary instead of the one the host ships.") var agentFile: String?

        func validate() throws {
            if all == !names.isEmpty { throw ValidationError("name VMs or use --all (not both)") }
        }

        func run() async throws {
            let client = options.client
            let request = IntegrationUpdateRequest(vms: names, all: all, force: force, agentFile: agentFile.map(absolute))
            let job = try await client.updateIntegration(request)
            if jobOptions.noWait {
                if options.json { try Output.json(job) } else { print(job.id) }
                return
            }
            let failure: (any Error)?
            do {
                _ = try await JobProgressView(client: client).wait(for: job)
                failure = nil
            } catch {
                failure = error
            }
            let results = try await client.integrationUpdateResults(job: job.id)
            if options.json {
                try Output.json(results)
            } else {
                Output.table(["VM", "RESULT", "FROM", "TO", "MESSAGE"], results.map {
                    [$0.vm, $0.result.rawValue, $0.from ?? "-", $0.to ?? "-", $0.message]
                })
            }
            if let failure { throw failure }
        }
    }
}
