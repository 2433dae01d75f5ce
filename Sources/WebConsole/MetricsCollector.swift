import APITypes
import Foundation
import Logging

/// Samples every VM and the host at a fixed interval (10 s) for the console's graphs and for
/// `/metrics`, which renders the latest sample so a scrape never waits on a guest's monitor.
/// Hourly averages go to the archive, which keeps 30 days.
public actor MetricsCollector {
    public static let hostKey = ""
    public static let retention: TimeInterval = 30 * 86400
    let source: any MetricsSource
    let archive: (any MetricsArchive)?
    let interval: Duration
    let logger: Logger
    private var lastPrune: Date?
    private var host = HostSample(jobsRunning: 0, migrationsRunning: 0)
    public private(set) var sampledAt: Date?
    /// The latest sample in Prometheus' text format (`MetricsExposition.render`).
    public private(set) var exposition: [UInt8] = []
    private var histories: [String: MetricsHistory] = [:]
    private var previous: [String: (sample: VMSample, time: ContinuousClock.Instant)] = [:]
    private var previousHostCPU: (busy: Double, total: Double)?

    public init(source: any MetricsSource, archive: (any MetricsArchive)? = nil, interval: Duration = .seconds(10), logger: Logger) {
        self.source = source
        self.archive = archive
        self.interval = interval
        self.logger = logger
    }

    /// Loads the archive's last 30 days, then samples until cancelled.
    public func run() async {
        do {
            for (key, hours) in try archive?.load(since: Date().addingTimeInterval(-Self.retention)) ?? [:] {
                histories[key] = MetricsHistory(hourly: hours)
            }
        } catch {
            logger.warning("cannot read the stored hourly metrics; the month graphs start empty", metadata: ["error": "\(error)"])
        }
        while !Task.isCancelled {
            await sample()
            try? await Task.sleep(for: interval)
        }
    }

    /// Takes one sample now.
    public func sample() async {
        let samples = await source.vmSamples()
        host = await source.hostSample()
        let now = ContinuousClock.now
        let time = Date()
        var seen = Set<String>()
        for sample in samples {
            seen.insert(sample.name)
            if let before = previous[sample.name] {
                add(Self.point(from: before.sample, to: sample, seconds: (now - before.time).seconds, at: time), to: sample.name)
            }
            previous[sample.name] = (sample, now)
        }
        for name in previous.keys where !seen.contains(name) { previous[name] = nil }
        for name in histories.keys where name != Self.hostKey && !seen.contains(name) { histories[name] = nil }
        if let point = hostPoint(at: time) { add(point, to: Self.hostKey) }
        sampledAt = time
        exposition = MetricsExposition.render(vms: samples, host: host, states: VMState.allCases.map(\.rawValue))
        if lastPrune.map({ time.timeIntervalSince($0) > 3600 }) ?? true {
            lastPrune = time
            do {
                try archive?.prune(before: time.addingTimeInterval(-Self.retention), keeping: seen.union([Self.hostKey]))
            } catch {
                logger.warning("cannot prune the stored hourly metrics", metadata: ["error": "\(error)"])
            }
        }
    }

    private func add(_ point: MetricsPoint, to key: String) {
        guard let closed = histories[key, default: MetricsHistory()].append(point) else { return }
        do {
            try archive?.store(key, closed)
        } catch {
            logger.warning("cannot store an hour of metrics", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }

    /// Each VM's CPU use at its latest point (percent of one processor).
    public func latestCPUPercent() -> [String: Double] {
        histories.compactMapValues { $0.recent.last?.cpuPercent }
    }

    /// A VM's graph data (`MetricsCollector.hostKey` for the host's); nil when it has none yet.
    public func history(_ name: String) -> MetricsHistory? {
        if name == Self.hostKey { return histories[name] }
        return histories.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    static func point(from before: VMSample, to after: VMSample, seconds: Double, at time: Date) -> MetricsPoint {
        let span = max(seconds, 0.001)
        func rate(_ value: KeyPath<VMSample, Int64>) -> Double { max(0, Double(after[keyPath: value] - before[keyPath: value]) / span) }
        let cpu = (after.cpuSeconds ?? 0) - (before.cpuSeconds ?? 0)
        return MetricsPoint(time: time, cpuPercent: max(0, cpu / span * 100), memoryBytes: Double(after.residentBytes ?? 0),
                            diskReadBytesPerSecond: rate(\.blockReadBytes), diskWriteBytesPerSecond: rate(\.blockWriteBytes),
                            networkReceiveBytesPerSecond: rate(\.networkReceiveBytes),
                            networkTransmitBytesPerSecond: rate(\.networkTransmitBytes))
    }

    /// The host's CPU use since the last sample (`/proc/stat`) and its used memory (`/proc/meminfo`).
    private func hostPoint(at time: Date) -> MetricsPoint? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 5 else { return nil }
        let total = fields.reduce(0, +)
        let busy = total - fields[3] - fields[4]
        defer { previousHostCPU = (busy, total) }
        guard let before = previousHostCPU, total > before.total else { return nil }
        let processors = Double(ProcessInfo.processInfo.activeProcessorCount)
        let cpu = (busy - before.busy) / (total - before.total) * 100 * processors
        return MetricsPoint(time: time, cpuPercent: cpu, memoryBytes: Self.usedMemory() ?? 0,
                            diskReadBytesPerSecond: 0, diskWriteBytesPerSecond: 0,
                            networkReceiveBytesPerSecond: 0, networkTransmitBytesPerSecond: 0)
    }

    static func usedMemory() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let value = Double(parts[1]) { values[String(parts[0].dropLast())] = value * 1024 }
        }
        guard let total = values["MemTotal"], let available = values["MemAvailable"] else { return nil }
        return total - available
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
