import APITypes
import ArgumentParser

/// `viridian switch …`: virtual switches (New-VMSwitch, Get-VMSwitch, Set-VMSwitch, Remove-VMSwitch).
struct SwitchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch", abstract: "Create and manage virtual switches.",
        discussion: """
            External switches take over a host NIC (a Linux bridge; --allow-management-os keeps the host's
            addresses on it), internal switches connect the VMs and the host, private switches only the VMs.
            The NAT 'Default Switch' is built in. Bridged switches need root, tun, bridge and nftables
            (see: viridian host show).
            """,
        subcommands: [SwitchNew.self, SwitchList.self, SwitchShow.self, SwitchSet.self, SwitchRemove.self])
}

extension SwitchType: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["external", "internal", "private"] }

    public init?(argument: String) {
        guard let type = SwitchType.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = type
    }
}

/// `viridian switch new NAME --type external|internal|private`.
struct SwitchNew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Create a virtual switch.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The switch's name.") var name: String
    @Option(help: "The kind of switch.") var type: SwitchType
    @Option(help: "External: the host NIC the switch takes over.") var adapter: String?
    @Flag(help: "External: the host keeps its addresses and routes on the switch.") var allowManagementOS = false
    @Option(help: "Internal: the host's address on the switch, ADDR/PREFIX.") var hostAddress: String?
    @Option(help: "MTU of the switch, 576–9000 (default 1500; 9000 for jumbo frames).") var mtu: Int?
    @Option(help: "Notes.") var notes: String?

    func run() async throws {
        let created = try await options.client.createSwitch(NewSwitchRequest(
            name: name, type: type, adapter: adapter, allowManagementOS: allowManagementOS ? true : nil,
            hostAddress: hostAddress, mtu: mtu, notes: notes))
        if options.json { return try Output.json(created) }
        print("Created \(created.type.rawValue.lowercased()) switch '\(created.name)' (bridge \(created.bridge ?? "-"), MTU \(created.mtu)).")
    }
}

/// `viridian switch list`.
struct SwitchList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List virtual switches.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let switches = try await options.client.switches()
        if options.json { return try Output.json(switches) }
        Output.table(["NAME", "TYPE", "ADAPTER", "BRIDGE", "MTU", "PORTS", "STATUS"], switches.map { item in
            [item.name, item.type.rawValue, item.adapter ?? "-", item.bridge ?? "-", String(item.mtu),
             String(item.connectedAdapters), item.status]
        })
    }
}

/// `viridian switch show NAME`.
struct SwitchShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a virtual switch.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The switch's name.") var name: String

    func run() async throws {
        let item = try await options.client.virtualSwitch(name)
        if options.json { return try Output.json(item) }
        Output.fields([("Name", item.name), ("Type", item.type.rawValue), ("Bridge", item.bridge ?? "-"),
                       ("Adapter", item.adapter ?? "-"), ("Management OS", item.allowManagementOS ? "allowed" : "not allowed"),
                       ("Host address", item.hostAddress ?? "-"), ("MTU", String(item.mtu)),
                       ("Connected adapters", String(item.connectedAdapters)), ("Status", item.status), ("Notes", item.notes)])
    }
}

/// `viridian switch set NAME --mtu N`.
struct SwitchSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a switch's MTU or notes.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The switch's name.") var name: String
    @Option(help: "MTU, 576–9000.") var mtu: Int?
    @Option(help: "Notes.") var notes: String?

    func run() async throws {
        let item = try await options.client.setSwitch(name, SetSwitchRequest(mtu: mtu, notes: notes))
        if options.json { return try Output.json(item) }
        print("Switch '\(item.name)': MTU \(item.mtu).")
    }
}

/// `viridian switch remove NAME`.
struct SwitchRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a switch no VM uses.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The switch's name.") var name: String

    func run() async throws {
        try await options.client.removeSwitch(name)
        if !options.json { print("Removed switch '\(name)'.") }
    }
}
