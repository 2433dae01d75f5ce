import APIClient
import ArgumentParser

/// `viridian host shutdown`: what the host does to its VMs as it shuts down.
struct HostShutdown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shutdown", abstract: "Apply every running VM's automatic stop action, as a host shutdown does.",
        discussion: """
            Each running VM is saved, shut down or turned off as its automatic stop action says (viridian vm set \\
            --automatic-stop-action), several at once, and marked as running when the host stopped. Afterwards no \\
            VM starts on this host until viridiand restarts; then the automatic start actions apply. \\
            viridian-guests.service runs this as the system shuts down; it does not stop viridiand or the machine.
            """)
    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions

    func run() async throws {
        try await JobRunner.run(options, jobOptions, start: { try await options.client.shutDownHost() }) { job in
            print("Stop actions applied: \(job.statusMessage ?? "done").")
        }
    }
}
