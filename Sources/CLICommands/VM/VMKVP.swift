import APITypes
import ArgumentParser

/// `viridian vm kvp NAME [--set K=V] [--remove K]`: Data Exchange items.
struct VMKVP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvp", abstract: "Show the VM's Data Exchange (KVP) items, or change the host's pool.",
        discussion: "Guest items include the intrinsic ones (FullyQualifiedDomainName, OSName, OSVersion, OSKernelVersion, ProcessorArchitecture, IntegrationServicesVersion, NetworkAddressIPv4, NetworkAddressIPv6) and the guest's user pool. Host items go to the guest (viridian-guest kvp list --pool host). Keys up to 512 bytes, values up to 2,048, as in Hyper-V.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument
    @Option(name: .customLong("set"), help: "Set a host item KEY=VALUE (repeatable).") var items: [String] = []
    @Option(help: "Remove a host item (repeatable).") var remove: [String] = []

    func run() async throws {
        var kvp: KVPItems
        if items.isEmpty && remove.isEmpty {
            kvp = try await options.client.kvp(vm.name)
        } else {
            var set: [String: String] = [:]
            for item in items {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw ValidationError("--set takes KEY=VALUE, not '\(item)'")
                }
                set[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
            kvp = try await options.client.changeKVP(vm.name, KVPChangeRequest(set: set, remove: remove))
        }
        if options.json { return try Output.json(kvp) }
        let rows = kvp.guest.sorted { $0.key < $1.key }.map { ["guest", $0.key, $0.value] }
            + kvp.host.sorted { $0.key < $1.key }.map { ["host", $0.key, $0.value] }
        Output.table(["POOL", "KEY", "VALUE"], rows)
    }
}
