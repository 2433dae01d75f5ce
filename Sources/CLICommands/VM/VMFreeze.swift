import APITypes
import ArgumentParser

/// `viridian vm freeze NAME [--timeout S]`: the VSS requestor's freeze.
struct VMFreeze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze", abstract: "Freeze the guest's file systems for a consistent copy.",
        discussion: "Writes in the guest wait until `viridian vm thaw`; the guest thaws by itself after --timeout seconds.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Option(help: "Seconds after which the guest thaws by itself (1–600).") var timeout = 60

    func run() async throws {
        let result = try await options.client.freeze(vm.name, timeoutSeconds: timeout)
        if options.json { return try Output.json(result) }
        print("Froze \(result.filesystems.joined(separator: ", ")) in VM '\(vm.name)' (\(result.agent)); thaw within \(timeout) s.")
    }
}

/// `viridian vm thaw NAME`.
struct VMThaw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "thaw", abstract: "Thaw the guest's file systems after a freeze.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        let result = try await options.client.thaw(vm.name)
        if options.json { return try Output.json(result) }
        print("Thawed \(result.filesystems.isEmpty ? "nothing (not frozen)" : result.filesystems.joined(separator: ", ")) in VM '\(vm.name)'.")
    }
}
