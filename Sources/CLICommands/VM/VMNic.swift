import APITypes
import ArgumentParser

/// `viridian vm nic add|list|set|remove` (Add-, Get-, Set-, Remove-VMNetworkAdapter).
struct VMNic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nic", abstract: "Manage a VM's network adapters and their port features.",
        discussion: """
            Adapters are numbered from 0 (see: vm nic list). Port features (MAC spoofing, DHCP and router
            guard, VLAN, bandwidth, mirroring) change while the VM runs; adapters are hot-added and the
            last one hot-removed while it runs; the MAC, queues and offloads change while it is Off.
            """,
        subcommands: [Add.self, List.self, Set.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a network adapter (hot-added when the VM runs).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Option(name: .customLong("switch"), help: "The switch to connect to.") var switchName: String
        @Option(help: "A static MAC address (default: one from the host's pool).") var mac: String?
        @Flag(help: "An emulated Intel e1000 (Generation 1, VM Off) instead of a synthetic adapter.") var legacy = false
        @OptionGroup var settings: NicSettingOptions

        func run() async throws {
            let request = AddNetworkAdapterRequest(switchName: switchName, kind: legacy ? .legacy : .synthetic, macAddress: mac,
                                                   settings: try settings.request())
            let info = try await options.client.addNetworkAdapter(vm.name, request)
            if options.json { return try Output.json(info) }
            print("Added adapter \(info.index) (\(info.adapter.macAddress)) on '\(info.adapter.switchName)' to VM '\(vm.name)'.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a VM's adapters, their features and what is in effect.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument

        func run() async throws {
            let adapters = try await options.client.networkAdapters(vm.name)
            if options.json { return try Output.json(adapters) }
            Output.table(["#", "SWITCH", "MAC", "VLAN", "GUARDS", "MAX BW", "MIRROR", "MTU", "QUEUES", "TAP"], adapters.map { info in
                let settings = info.adapter.settings
                let guards = [settings.macAddressSpoofing ? "spoofing-allowed" : nil, settings.dhcpGuard ? "dhcp" : nil,
                              settings.routerGuard ? "router" : nil].compactMap { $0 }.joined(separator: ",")
                return [String(info.index), info.adapter.switchName, info.adapter.macAddress + (info.adapter.staticMAC ? " (static)" : ""),
                        settings.vlan.summary, guards.isEmpty ? "-" : guards,
                        settings.maximumBandwidth.map { "\($0) bit/s" } ?? "-", settings.portMirroring.rawValue,
                        String(info.mtu), String(info.queues), info.tap ?? "-"]
            })
            for info in adapters {
                for feature in info.hardwareFeatures where feature.requested != "Off" {
                    print("adapter \(info.index): \(feature.name) requested \(feature.requested), effective \(feature.effective)"
                          + (feature.reason.map { ": \($0)" } ?? ""))
                }
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an adapter's switch, MAC or port features.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Option(help: "The adapter (default 0).") var nic = 0
        @Option(name: .customLong("switch"), help: "Connect the adapter to another switch.") var switchName: String?
        @Option(help: "A static MAC address, or 'dynamic' for one from the pool.") var mac: String?
        @OptionGroup var settings: NicSettingOptions

        func run() async throws {
            var request = try settings.request()
            request.switchName = switchName
            request.macAddress = mac
            let info = try await options.client.setNetworkAdapter(vm.name, index: nic, request)
            if options.json { return try Output.json(info) }
            print("Adapter \(info.index) of VM '\(vm.name)': \(info.adapter.settings.vlan.summary), MTU \(info.mtu), \(info.queues) queue\(info.queues == 1 ? "" : "s").")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an adapter (hot-removed when the VM runs).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Option(help: "The adapter.") var nic: Int

        func run() async throws {
            try await options.client.removeNetworkAdapter(vm.name, index: nic)
            if !options.json { print("Removed adapter \(nic) from VM '\(vm.name)'.") }
        }
    }
}

extension PortMirroring: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map { $0.rawValue.lowercased() } }

    public init?(argument: String) {
        guard let mode = PortMirroring.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = mode
    }
}

/// The port features `vm nic add` and `vm nic set` take.
struct NicSettingOptions: ParsableArguments {
    @Option(help: "Allow frames with another source MAC: on or off (default off).") var macSpoofing: OnOff?
    @Option(help: "Drop DHCP server messages from the VM: on or off.") var dhcpGuard: OnOff?
    @Option(help: "Drop router advertisements and redirects from the VM: on or off.") var routerGuard: OnOff?
    @Option(help: "Access mode in this VLAN (1–4094).") var vlanAccess: Int?
    @Option(help: "Trunk mode with these VLANs, ID,ID….") var vlanTrunk: String?
    @Option(help: "Trunk mode: the VLAN of untagged frames.") var vlanNative: Int?
    @Flag(help: "No VLAN (untagged).") var vlanUntagged = false
    @Option(help: "Cap on the VM's outgoing traffic in bits/s (k, M, G suffixes; 0 = none).") var maximumBandwidth: String?
    @Option(help: "Port mirroring.") var portMirroring: PortMirroring?
    @Option(help: "The adapter's MTU, 576–9000 (0 = the switch's).") var mtu: Int?
    @Option(help: "Queue pairs (vRSS / VMMQ), at most one per processor (0 = one per processor).") var queues: Int?
    @Option(help: "Checksum and segmentation offload together: on or off.") var offloads: OnOff?
    @Option(help: "Checksum offload: on or off.") var checksumOffload: OnOff?
    @Option(help: "Segmentation offload (TSO/GSO): on or off.") var segmentationOffload: OnOff?
    @Option(help: "SR-IOV weight, 0–100 (0 = off).") var iovWeight: Int?
    @Option(help: "VMQ weight, 0–100 (0 = off).") var vmqWeight: Int?
    @Option(help: "IPsec task offload: most security associations (0 = off).") var ipsecOffloadMaxSa: Int?

    func request() throws -> SetNetworkAdapterRequest {
        var request = SetNetworkAdapterRequest()
        request.macAddressSpoofing = macSpoofing.map { $0 == .on }
        request.dhcpGuard = dhcpGuard.map { $0 == .on }
        request.routerGuard = routerGuard.map { $0 == .on }
        let modes = [vlanAccess != nil, vlanTrunk != nil, vlanUntagged].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("give one of --vlan-access, --vlan-trunk and --vlan-untagged") }
        if vlanNative != nil && vlanTrunk == nil { throw ValidationError("--vlan-native goes with --vlan-trunk") }
        if let vlanAccess { request.vlan = VLANSetting(mode: .access, accessID: vlanAccess) }
        if let vlanTrunk {
            let ids = try vlanTrunk.split(separator: ",").map { part -> Int in
                guard let id = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("'\(part)' is not a VLAN id") }
                return id
            }
            request.vlan = VLANSetting(mode: .trunk, allowedIDs: ids, nativeID: vlanNative)
        }
        if vlanUntagged { request.vlan = .untagged }
        request.maximumBandwidth = try maximumBandwidth.map(Self.bits)
        request.portMirroring = portMirroring
        request.mtu = mtu
        request.queues = queues
        request.checksumOffload = (checksumOffload ?? offloads).map { $0 == .on }
        request.segmentationOffload = (segmentationOffload ?? offloads).map { $0 == .on }
        request.iovWeight = iovWeight
        request.vmqWeight = vmqWeight
        request.ipsecOffloadMaximumSecurityAssociations = ipsecOffloadMaxSa
        return request
    }

    /// `50000000`, `50M`, `1.5G`, `800k` → bits per second.
    static func bits(_ text: String) throws -> Int64 {
        let multipliers: [Character: Double] = ["k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9]
        var number = Substring(text)
        var multiplier = 1.0
        if let last = number.last, let factor = multipliers[last] {
            multiplier = factor
            number = number.dropLast()
        }
        guard let value = Double(number), value >= 0, value * multiplier < 1e12 else {
            throw ValidationError("'\(text)' is not a bandwidth in bits/s like 50000000 or 50M")
        }
        return Int64(value * multiplier)
    }
}
