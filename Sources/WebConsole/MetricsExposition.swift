import Prometheus

/// `GET /metrics` in Prometheus' text format (swift-prometheus): the VMs' latest sample, the
/// host's counts, and the web listener's request durations, under `viridian_` names. The sample's
/// part is rendered once per sample (by the collector), so a scrape only copies it.
public final class MetricsExposition: Sendable {
    /// Lives as long as the daemon: API request durations by method.
    let requests = PrometheusCollectorRegistry()
    private let durationBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                               .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                               .seconds(2.5), .seconds(5), .seconds(10)]
    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    public init() {}

    /// `viridian_SUBSYSTEM_METRIC_UNIT`.
    static func name(_ subsystem: String, _ metric: String, _ unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "viridian", subsystem: subsystem, metricName: metric, unitName: unit, helpText: help)
    }

    /// Counts one API request on the web listener.
    public func recordRequest(method: String, duration: Duration) {
        let label = Self.methods.contains(method) ? method : "other"
        requests.makeDurationHistogram(descriptor: Self.name("api", "request_duration", "seconds", "Time to answer a REST API request on the web listener"),
                                       labels: [("method", label)], buckets: durationBuckets).record(duration)
    }

    /// A scrape: the sample's rendered part, then the request durations.
    public func scrape(sample: [UInt8]) -> [UInt8] {
        var buffer = sample
        requests.emit(into: &buffer)
        return buffer
    }

    /// The sample's part for `vms` and `host`; `states` are every VM state, counted even at zero.
    public static func render(vms: [VMSample], host: HostSample, states: [String]) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        var counts = Dictionary(uniqueKeysWithValues: states.map { ($0, 0) })
        for vm in vms {
            counts[vm.state, default: 0] += 1
            let labels = [("vm", vm.name)]
            func gauge(_ metric: String, _ unit: String, _ value: Double, _ help: String) {
                registry.makeGauge(descriptor: name("vm", metric, unit, help), labels: labels).set(to: value)
            }
            func counter(_ metric: String, _ value: Int64, _ help: String) {
                registry.makeCounter(descriptor: name("vm", metric, "total", help), labels: labels).increment(by: value)
            }
            if let cpu = vm.cpuSeconds {
                registry.makeCounter(descriptor: Self.name("vm", "cpu_seconds", "total", "CPU time the VM's worker used"), labels: labels)
                    .increment(by: cpu)
            }
            gauge("memory_assigned", "bytes", Double(vm.memoryBytes), "Memory assigned to the VM")
            if let resident = vm.residentBytes { gauge("memory_resident", "bytes", Double(resident), "Resident memory of the VM's worker") }
            counter("block_read_bytes", vm.blockReadBytes, "Bytes the VM read from its disks")
            counter("block_write_bytes", vm.blockWriteBytes, "Bytes the VM wrote to its disks")
            counter("block_read_operations", vm.blockReadOperations, "Read operations on the VM's disks")
            counter("block_write_operations", vm.blockWriteOperations, "Write operations on the VM's disks")
            counter("network_receive_bytes", vm.networkReceiveBytes, "Bytes the VM received")
            counter("network_transmit_bytes", vm.networkTransmitBytes, "Bytes the VM sent")
            counter("network_receive_packets", vm.networkReceivePackets, "Packets the VM received")
            counter("network_transmit_packets", vm.networkTransmitPackets, "Packets the VM sent")
            if let heartbeat = vm.heartbeat { gauge("heartbeat_ok", "", heartbeat == "OK" ? 1 : 0, "1 while the VM's heartbeat is OK") }
        }
        for (state, count) in counts.sorted(by: { $0.key < $1.key }) {
            registry.makeGauge(descriptor: Self.name("host", "vms", "", "VMs on this host by state"), labels: [("state", state)])
                .set(to: Double(count))
        }
        registry.makeGauge(descriptor: Self.name("host", "jobs_running", "", "Jobs running on this host")).set(to: Double(host.jobsRunning))
        registry.makeGauge(descriptor: Self.name("host", "migrations_running", "", "Moves of VMs running on this host"))
            .set(to: Double(host.migrationsRunning))
        return registry.emitToBuffer()
    }
}
