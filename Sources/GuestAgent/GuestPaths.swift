/// Where the agent finds its ports and keeps its state; tests point these at temporary folders.
public struct GuestPaths: Sendable {
    /// `/sys/class/virtio-ports`: one folder per port with a `name` file.
    public var portClass: String
    /// Where the port devices live (`/dev/vport0p1`).
    public var devices: String
    /// Volatile state: health, the negotiated release (`/run/viridian-guest`).
    public var runtime: String
    /// Persistent state: the KVP pools (`/var/lib/viridian-guest`).
    public var data: String

    public init(portClass: String = "/sys/class/virtio-ports", devices: String = "/dev",
                runtime: String = "/run/viridian-guest", data: String = "/var/lib/viridian-guest") {
        self.portClass = portClass
        self.devices = devices
        self.runtime = runtime
        self.data = data
    }

    public var healthFile: String { "\(runtime)/health.json" }
    public var negotiatedFile: String { "\(runtime)/negotiated" }
    public var pidFile: String { "\(runtime)/agent.pid" }
    public var guestPoolFile: String { "\(data)/kvp-guest.json" }
    public var hostPoolFile: String { "\(data)/kvp-host.json" }
}
