import APITypes
import ArgumentParser

/// `viridian vm stop NAME [--turn-off] [--timeout S]` (Stop-VM).
struct VMStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Shut a VM down.",
        discussion: "Asks the guest through the shutdown integration service, else presses the ACPI power button, and waits; after --timeout seconds it turns the VM off. The result says which path it took. --turn-off pulls the plug at once.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Flag(help: "Turn the VM off at once, without a guest shutdown.") var turnOff = false
    @Option(help: "Seconds to wait for a graceful shutdown before turning the VM off.") var timeout: Int?

    func run() async throws {
        let request = StopVMRequest(turnOff: turnOff, timeoutSeconds: timeout)
        try await JobRunner.run(options, jobOptions, start: { try await options.client.stopVM(vm.name, request) }) { job in
            print("VM '\(vm.name)' is Off: \(job.statusMessage ?? "stopped").")
        }
    }
}
