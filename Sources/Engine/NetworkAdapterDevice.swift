import APITypes

/// The QEMU back end (`-netdev` / `netdev_add`) and device (`-device` / `device_add`) of one
/// network adapter, shared by the command line and hot-plug so both build the same device.
///
/// An adapter on a bridged switch is a tap (made by viridiand, `script=no`); on the NAT switch it
/// is user networking. Synthetic adapters are virtio-net with the port's queues (vRSS / VMMQ:
/// `mq=on`, one queue pair per virtual processor by default), MTU (`host_mtu`, the guest driver
/// adopts it) and offloads; legacy adapters are e1000. Generation 2 puts each adapter on its own
/// PCIe root port so adapters can be hot-plugged.
public struct NetworkAdapterDevice: Sendable {
    public let adapter: NetworkAdapter
    public let index: Int
    public let generation: Generation
    public let processorCount: Int
    public let tap: String?

    public init(adapter: NetworkAdapter, index: Int, generation: Generation, processorCount: Int, tap: String?) {
        self.adapter = adapter
        self.index = index
        self.generation = generation
        self.processorCount = processorCount
        self.tap = tap
    }

    public var netdevID: String { "net\(index)" }
    public var deviceID: String { "nic\(index)" }

    /// The queue pairs the adapter gets.
    public var queues: Int { Self.queues(for: adapter, processorCount: processorCount) }

    /// Explicit queues, else one per virtual processor (at most 8); legacy adapters have one.
    public static func queues(for adapter: NetworkAdapter, processorCount: Int) -> Int {
        guard adapter.kind == .synthetic, tapped(adapter) else { return 1 }
        return adapter.settings.queues ?? min(processorCount, PortSettings.maximumQueues)
    }

    private static func tapped(_ adapter: NetworkAdapter) -> Bool { !adapter.isOnDefaultSwitch }

    /// `-netdev` options, in order, the type first (also the `netdev_add` arguments).
    public var netdevOptions: [(key: String, value: String)] {
        guard let tap else { return [("type", "user"), ("id", netdevID)] }
        var options: [(String, String)] = [("type", "tap"), ("id", netdevID), ("ifname", tap), ("script", "no"),
                                           ("downscript", "no"), ("vhost", "off")]
        if queues > 1 { options.append(("queues", String(queues))) }
        return options
    }

    /// The device driver.
    public var driver: String { adapter.kind == .legacy ? "e1000" : "virtio-net-pci" }

    /// `-device` options after the driver, in order (also the `device_add` arguments).
    public var deviceOptions: [(key: String, value: String)] {
        var options: [(String, String)] = [("netdev", netdevID), ("mac", adapter.macAddress), ("id", deviceID)]
        if generation == .two { options.append(("bus", Self.rootPortID(slot: index))) }
        guard adapter.kind == .synthetic else { return options }
        if queues > 1 { options += [("mq", "on"), ("vectors", String(2 * queues + 2))] }
        if let mtu = adapter.settings.mtu, tap != nil { options.append(("host_mtu", String(mtu))) }
        let settings = adapter.settings
        if !settings.checksumOffload {
            options += [("csum", "off"), ("guest_csum", "off")]
        }
        if !settings.segmentationOffload || !settings.checksumOffload {
            options += ["host_tso4", "host_tso6", "host_ecn", "host_ufo", "guest_tso4", "guest_tso6", "guest_ecn", "guest_ufo"]
                .map { ($0, "off") }
        }
        return options
    }

    /// The PCIe root port a Generation 2 adapter slot sits on.
    public static func rootPortID(slot: Int) -> String { "nicslot\(slot)" }

    /// The `-netdev` argument: `tap,id=net0,…`.
    var netdevArgument: String {
        netdevOptions.map { $0.key == "type" ? $0.value : "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// `-device` text of a hot-plug-capable root port (no I/O window: virtio-net does not need one).
    static func rootPort(slot: Int) -> String {
        "pcie-root-port,id=\(rootPortID(slot: slot)),chassis=\(slot + 1),io-reserve=0"
    }
}
