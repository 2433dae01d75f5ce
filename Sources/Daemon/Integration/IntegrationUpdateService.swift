import AgentProtocol
import APITypes
import Foundation
import GuestImage
import HostServices
import IntegrationServices
import Synchronization

/// Version management beyond Hyper-V: the setup disk (`viridian vm ic insert-disk`) and in-place
/// upgrades of running agents (`viridian ic update`) through file copy and a direct session.
final class IntegrationUpdateService: Sendable {
    /// VMs upgraded at the same time.
    static let concurrentUpdates = 2
    /// Where the new agent lands in the guest before it installs itself.
    static let guestStagingPath = "/run/viridian-guest/update/viridian-guest"
    /// How long an upgraded agent has to come back (the guest rolls back after 15 s on its own).
    static let comebackTimeout: Duration = .seconds(45)

    let vms: VMManager
    let jobs: JobManager
    let events: EventLog
    let configuration: DaemonConfiguration
    /// Per-VM results by update, and which update each job runs.
    private let results = Mutex<[String: [IntegrationUpdateResult]]>([:])
    private let tokens = Mutex<[String: String]>([:])

    init(vms: VMManager, jobs: JobManager, events: EventLog, configuration: DaemonConfiguration) {
        self.vms = vms
        self.jobs = jobs
        self.events = events
        self.configuration = configuration
    }

    /// Builds (cached) the setup disk and puts it in the VM's DVD drive. A job.
    func insertSetupDisk(vm name: String) async throws -> JobInfo {
        let bundle = try configuration.guestAgentBundle()
        let vmName = try await vms.show(name).name
        return jobs.start(kind: "vm.ic.insert-disk", vm: vmName,
                          description: "Inserting the integration services setup disk into '\(vmName)'") { [self] progress in
            progress.report(10, "building the setup disk")
            let iso = try await SetupDiskBuilder(cacheDirectory: configuration.cacheDirectory)
                .build(bundle, release: ViridianVersion.current)
            progress.report(80, "inserting it")
            _ = try await vms.setDVD(vmName, path: iso)
            events.record(.information, .integration, vm: vmName,
                          "inserted the integration services \(ViridianVersion.current) setup disk into VM '\(vmName)'")
            return "inserted \(iso); in the guest: mount /dev/sr0 /mnt && sh /mnt/install.sh"
        }
    }

    /// Upgrades the agents of the named (or all running) VMs, a few at a time. A job; per-VM results
    /// come from `results(job:)`.
    func update(_ request: IntegrationUpdateRequest) async throws -> JobInfo {
        let bundle = try configuration.guestAgentBundle()
        let agentFile = request.agentFile ?? bundle.binary
        guard FileManager.default.isReadableFile(atPath: agentFile) else {
            throw ViridianError(.notFound, "cannot read the agent binary \(agentFile)")
        }
        let names: [String]
        if request.all {
            names = await vms.list().filter { $0.state == .running }.map(\.name)
        } else {
            guard !request.vms.isEmpty else { throw ViridianError(.invalidArgument, "name VMs or use --all") }
            for name in request.vms { _ = try await vms.show(name) }
            names = request.vms
        }
        let token = UUID().uuidString
        let job = jobs.start(kind: "ic.update", vm: names.count == 1 ? names.first : nil,
                             description: "Updating integration services on \(names.count) VM(s)") { [self] progress in
            let outcomes = await withTaskGroup(of: IntegrationUpdateResult.self) { group in
                var pending = names[...]
                var finished: [IntegrationUpdateResult] = []
                for _ in 0..<Self.concurrentUpdates {
                    guard let name = pending.popFirst() else { break }
                    group.addTask { await self.updateOne(name, agentFile: agentFile, force: request.force) }
                }
                for await outcome in group {
                    finished.append(outcome)
                    results.withLock { $0[token, default: []].append(outcome) }
                    progress.report(finished.count * 100 / max(1, names.count), "\(outcome.vm): \(outcome.result)")
                    if let name = pending.popFirst() {
                        group.addTask { await self.updateOne(name, agentFile: agentFile, force: request.force) }
                    }
                }
                return finished
            }
            try Task.checkCancellation()
            if let failed = outcomes.first(where: { $0.result == .failed || $0.result == .rolledBack }) {
                throw ViridianError(.engineFailure, "\(Self.summary(outcomes)); \(failed.vm): \(failed.message)")
            }
            return Self.summary(outcomes)
        }
        tokens.withLock { $0[job.id] = token }
        return job
    }

    /// The per-VM results of an update job so far (all of them once the job finished).
    func results(job: String) throws -> [IntegrationUpdateResult] {
        guard let token = tokens.withLock({ $0[job] }) else {
            throw ViridianError(.notFound, "no integration update job \(job)")
        }
        return (results.withLock { $0[token] } ?? []).sorted { $0.vm.lowercased() < $1.vm.lowercased() }
    }

    private static func summary(_ outcomes: [IntegrationUpdateResult]) -> String {
        let counts = Dictionary(grouping: outcomes, by: \.result).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
        return counts.joined(separator: ", ")
    }
}
