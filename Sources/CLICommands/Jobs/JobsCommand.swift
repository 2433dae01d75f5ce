import ArgumentParser

/// `viridian jobs [list|show ID|cancel ID]`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Long operations: list, show, cancel.",
        subcommands: [List.self, Show.self, Cancel.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List running and recent jobs.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let jobs = try await options.client.jobs()
            if options.json { return try Output.json(jobs) }
            Output.table(["ID", "STATE", "%", "VM", "DESCRIPTION", "MESSAGE"], jobs.map { job in
                [String(job.id.prefix(8)), job.state.rawValue, String(job.percentComplete), job.vm ?? "-", job.description,
                 job.error?.message ?? job.statusMessage ?? ""]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The job id.") var id: String

        func run() async throws {
            let job = try await options.client.job(id)
            if options.json { return try Output.json(job) }
            Output.fields([("Id", job.id), ("Kind", job.kind), ("State", job.state.rawValue), ("Percent", String(job.percentComplete)),
                           ("Description", job.description), ("Message", job.statusMessage ?? "-"), ("Error", job.error?.message ?? "-")])
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a running job; its work is undone.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The job id.") var id: String

        func run() async throws {
            let job = try await options.client.cancelJob(id)
            if options.json { try Output.json(job) } else { print("Cancelling job \(job.id).") }
        }
    }
}
