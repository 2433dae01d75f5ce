import APITypes
import HostServices
import Foundation
import QMP
import VirtualSwitch
import WebConsole

/// What a metrics sample needs of one VM, read inside the manager's turn; the slow reads
/// (`/proc`, QMP, the taps) happen outside it.
struct MetricsSubject: Sendable {
    var id: String
    var name: String
    var state: VMState
    var memoryMiB: Int
    var pid: Int32?
    var client: QMPClient?
    var heartbeat: String?
    var adapterCount: Int
}

extension VMManager {
    /// The web console's VM list, with `cpuPercent(name)` from the metrics collector.
    func consoleRows(cpuPercent: [String: Double]) -> [VMListRow] {
        vms.values.map { vm in
            let summary = vm.summary
            return VMListRow(name: summary.name, state: summary.state, generation: summary.generation,
                             processorCount: summary.processorCount, memoryMiB: summary.memoryMiB, uptimeSeconds: summary.uptimeSeconds,
                             cpuPercent: vm.worker == nil ? nil : cpuPercent[summary.name].map { $0 / Double(max(summary.processorCount, 1)) },
                             heartbeat: vm.worker?.hub.heartbeatPrimaryStatus, integrationRelease: vm.integration.release,
                             operation: vm.operation?.description, video: vm.record.configuration.video)
        }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    func metricsSubjects() -> [MetricsSubject] {
        vms.values.map { vm in
            MetricsSubject(id: vm.record.id, name: vm.record.name, state: vm.record.state,
                           memoryMiB: vm.record.configuration.memoryMiB, pid: vm.worker?.pid, client: vm.worker?.client,
                           heartbeat: vm.worker?.hub.heartbeatPrimaryStatus, adapterCount: vm.record.configuration.networkAdapters.count)
        }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }
}

/// The host's `MetricsSource`: each VM's worker CPU time and resident memory from `/proc`, its
/// drives' counters from QMP (a few VMs at a time, each bounded by a timeout), its taps' counters.
struct HostMetricsSource: MetricsSource {
    let vms: VMManager
    let jobs: JobManager
    let switches: SwitchService
    static let concurrentQueries = 8
    static let clockTicks = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    func vmSamples() async -> [VMSample] {
        let subjects = await vms.metricsSubjects()
        return await withTaskGroup(of: (Int, VMSample).self) { group in
            var samples = [VMSample?](repeating: nil, count: subjects.count)
            var next = 0
            func addNext() {
                guard next < subjects.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await sample(subjects[index])) }
            }
            for _ in 0..<Self.concurrentQueries { addNext() }
            for await (index, sample) in group {
                samples[index] = sample
                addNext()
            }
            return samples.compactMap { $0 }
        }
    }

    func hostSample() async -> HostSample {
        let running = jobs.live.filter { $0.state == .running }
        return HostSample(jobsRunning: running.count, migrationsRunning: running.filter { $0.kind.hasPrefix("vm.move") }.count)
    }

    private func sample(_ subject: MetricsSubject) async -> VMSample {
        var sample = VMSample(name: subject.name, state: subject.state.rawValue, memoryBytes: Int64(subject.memoryMiB) << 20)
        guard let pid = subject.pid else { return sample }
        sample.heartbeat = subject.heartbeat
        // A worker that exits, or a monitor busy past its timeout, between two samples leaves these
        // counters out of this one sample only; the next reads them again.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after the command name: state is field 3, utime 14 and stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                sample.cpuSeconds = (user + system) / Self.clockTicks
            }
        }
        if let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = Int64(fields[1]) { sample.residentBytes = pages * Self.pageSize }
        }
        if let client = subject.client, let drives = try? await client.blockStats(timeout: .seconds(2)) {
            for drive in drives {
                sample.blockReadBytes += drive.readBytes
                sample.blockWriteBytes += drive.writeBytes
                sample.blockReadOperations += drive.readOperations
                sample.blockWriteOperations += drive.writeOperations
            }
        }
        for index in 0..<subject.adapterCount {
            guard let tap = await switches.fabric?.tap(of: PortKey(vmID: subject.id, index: index)) else { continue }
            // The tap's transmit is what the guest receives, and the other way round.
            sample.networkReceiveBytes += Self.counter(tap, "tx_bytes")
            sample.networkTransmitBytes += Self.counter(tap, "rx_bytes")
            sample.networkReceivePackets += Self.counter(tap, "tx_packets")
            sample.networkTransmitPackets += Self.counter(tap, "rx_packets")
        }
        return sample
    }

    private static func counter(_ link: String, _ name: String) -> Int64 {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(link)/statistics/\(name)", encoding: .utf8) else { return 0 }
        return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
