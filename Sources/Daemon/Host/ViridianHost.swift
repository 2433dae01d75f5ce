import AgentProtocol
import APITypes
import Backup
import Checkpoints
import Engine
import Foundation
import HostServices
import Inventory
import Logging
import Migration
import Ownership
import Peers
import Storage
import Synchronization
import WebConsole

/// The version of Viridian (and of the integration services it ships).
public enum ViridianVersion {
    public static let current = Release.current
}

/// Everything one viridiand runs, wired together: inventory, jobs, event log, VMs, images, disks.
public final class ViridianHost: Sendable {
    public let configuration: DaemonConfiguration
    public let vms: VMManager
    public let jobs: JobManager
    let inventory: Inventory
    let events: EventLog
    let images: ImageService
    let vhds: VHDService
    let catalog: DiskCatalog
    let fileCopies: FileCopyService
    let integrationUpdates: IntegrationUpdateService
    let settings: HostSettingsStore
    let switches: SwitchService
    let peers: PeerRegistry
    let incoming: IncomingMigrations
    let migrations: MigrationService
    let checkpoints: CheckpointService
    let backups: BackupService
    let qemu: QEMUBinary
    let acceleratorDecision: AcceleratorProbe.Decision
    let startedAt = Date()
    let housekeeping = Housekeeping()
    /// The web listener's API tokens (managed on the socket).
    let tokens: APITokens
    /// The graphs' and `/metrics`' samples, every 10 s.
    let metrics: MetricsCollector
    let exposition = MetricsExposition()
    private let metricsLoop = Mutex<Task<Void, Never>?>(nil)
    let logger: Logger

    /// Opens the state directory, probes the engine and re-attaches to running workers.
    public static func open(_ configuration: DaemonConfiguration, logger: Logger) async throws -> ViridianHost {
        let qemu = try await QEMUBinary.locate()
        for directory in [configuration.stateDirectory, "\(configuration.stateDirectory)/vms",
                          "\(configuration.stateDirectory)/run", "\(configuration.stateDirectory)/disks"] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ViridianError(.invalidArgument, "cannot create the state directory \(directory)", cause: error)
            }
        }
        HostAccess.protectStateDirectory(configuration.stateDirectory, logger: logger)
        try HostName.validate(configuration.hostName)
        let inventory = try Inventory(path: "\(configuration.stateDirectory)/inventory.sqlite")
        let catalog = DiskCatalog(tool: try DiskImageTool(), inventory: inventory)
        let feed = LiveFeed()
        let events = EventLog(inventory: inventory, logger: logger, feed: feed)
        let jobs = JobManager(inventory: inventory, logger: logger, feed: feed)
        let settings = try HostSettingsStore(inventory: inventory)
        let identity = try HostIdentity.load(directory: "\(configuration.stateDirectory)/tls", hostName: configuration.hostName)
        let peers = try PeerRegistry(inventory: inventory, identity: identity)
        let decision = await AcceleratorProbe(qemu: qemu.path).decide(forced: configuration.accelerator)
        let switches = await SwitchService(inventory: inventory, stateDirectory: configuration.stateDirectory,
                                           events: events, logger: logger)
        let vms = try VMManager(inventory: inventory, jobs: jobs, events: events, catalog: catalog,
                                launcher: WorkerLauncher(qemu: qemu), accelerator: decision.accelerator,
                                stateDirectory: configuration.stateDirectory, settings: settings, switches: switches,
                                ownership: LocalOwnershipStore(inventory: inventory, hostName: configuration.hostName),
                                logger: logger)
        let host = ViridianHost(configuration: configuration, vms: vms, jobs: jobs, inventory: inventory, events: events,
                                images: ImageService(inventory: inventory, catalog: catalog, jobs: jobs, events: events,
                                                     configuration: configuration, logger: logger),
                                vhds: VHDService(catalog: catalog, vms: vms, jobs: jobs, events: events),
                                settings: settings, switches: switches, peers: peers, catalog: catalog,
                                qemu: qemu, acceleratorDecision: decision, logger: logger)
        events.record(.information, .vmms, vm: nil,
                      "viridiand \(ViridianVersion.current) started as host '\(configuration.hostName)'; accelerator \(decision.accelerator.rawValue): \(decision.reason)")
        if let warning = settings.loadWarning { events.record(.warning, .vmms, vm: nil, warning) }
        if let reason = host.migrations.memoryCopyPauseReason {
            events.record(.warning, .migration, vm: nil, "live moves from this host pause each guest while its memory is copied: \(reason)")
        }
        for name in IncomingMarker.cleanUpAbandoned(stateDirectory: configuration.stateDirectory, isStored: vms.isStored(vmID:)) {
            events.record(.warning, .migration, vm: name,
                          "discarded the half-arrived VM '\(name)': viridiand stopped before its move was committed")
        }
        await switches.recreateAll()
        await vms.adoptLegacyDisks()
        await host.images.adoptLegacyDisks()
        await vms.adoptUnowned()
        let firstStartSinceBoot = try HostBoot.isFirstStartSinceBoot(inventory)
        await vms.reattachWorkers(hostRestarted: firstStartSinceBoot)
        await host.checkpoints.settleInterrupted()
        host.backups.removeLeftoverExports()
        await vms.reconcilePorts()
        await host.migrations.settleUnfinishedDepartures()
        await vms.applyAutomaticStartActions(firstStartSinceBoot: firstStartSinceBoot)
        host.housekeeping.start(vms: vms, jobs: jobs, events: events, settings: settings)
        let metrics = host.metrics
        host.metricsLoop.withLock { $0 = Task { await metrics.run() } }
        return host
    }

    private init(configuration: DaemonConfiguration, vms: VMManager, jobs: JobManager, inventory: Inventory,
                 events: EventLog, images: ImageService, vhds: VHDService, settings: HostSettingsStore,
                 switches: SwitchService, peers: PeerRegistry,
                 catalog: DiskCatalog, qemu: QEMUBinary, acceleratorDecision: AcceleratorProbe.Decision, logger: Logger) {
        self.configuration = configuration
        self.vms = vms
        self.jobs = jobs
        self.inventory = inventory
        self.events = events
        self.images = images
        self.vhds = vhds
        self.catalog = catalog
        fileCopies = FileCopyService(vms: vms, jobs: jobs, events: events)
        integrationUpdates = IntegrationUpdateService(vms: vms, jobs: jobs, events: events, configuration: configuration)
        self.settings = settings
        self.switches = switches
        self.peers = peers
        incoming = IncomingMigrations(vms: vms, peers: peers, settings: settings, catalog: catalog, events: events,
                                      stateDirectory: configuration.stateDirectory, logger: logger)
        migrations = MigrationService(vms: vms, peers: peers, jobs: jobs, events: events, catalog: catalog, settings: settings,
                                      memoryCopyPauseReason: MemoryCopyRule.pauseReason(accelerator: acceleratorDecision.accelerator,
                                                                                        qemuVersion: qemu.version))
        checkpoints = CheckpointService(host: vms, inventory: inventory, catalog: catalog, jobs: jobs, events: events,
                                        stateDirectory: configuration.stateDirectory)
        backups = BackupService(host: vms, catalog: catalog, jobs: jobs, events: events, logger: logger,
                                runtimeDirectory: "\(configuration.stateDirectory)/run", restoreDirectory: "\(configuration.stateDirectory)/disks",
                                exportDirectory: "\(configuration.stateDirectory)/exports")
        self.qemu = qemu
        self.acceleratorDecision = acceleratorDecision
        self.logger = logger
        tokens = APITokens(inventory: inventory)
        metrics = MetricsCollector(source: HostMetricsSource(vms: vms, jobs: jobs, switches: switches),
                                   archive: InventoryMetricsArchive(inventory: inventory), logger: logger)
    }

    /// What `viridian host show` prints.
    func info() async -> HostInfo {
        let counts = await vms.counts()
        return HostInfo(hostName: configuration.hostName, version: ViridianVersion.current,
                        accelerator: acceleratorDecision.accelerator, acceleratorReason: acceleratorDecision.reason,
                        qemuVersion: qemu.version, stateDirectory: configuration.stateDirectory,
                        logicalProcessors: ProcessInfo.processInfo.activeProcessorCount,
                        memoryMiB: Int(ProcessInfo.processInfo.physicalMemory >> 20),
                        virtualMachines: counts.total, runningVirtualMachines: counts.running, startedAt: startedAt,
                        migrationListener: configuration.migrationListen?.description,
                        certificateFingerprint: (try? PeerAuthority(pem: peers.identity.authorityPEM))?.fingerprint,
                        availableMemoryMiB: await vms.availableMemoryMiB(), settings: settings.settings,
                        networkFeatures: switches.capabilities.features,
                        memoryCopyPauseReason: migrations.memoryCopyPauseReason,
                        newestMachineTypes: [Generation.one, .two].map(qemu.machineTypes.newest(for:)))
    }

    /// What this host tells a peer about itself.
    func peerHello() async -> PeerHello {
        PeerHello(protocolVersion: PeerProtocol.version, hostName: configuration.hostName, version: ViridianVersion.current, qemuVersion: qemu.version,
                  accelerator: acceleratorDecision.accelerator, availableMemoryMiB: await vms.availableMemoryMiB(),
                  logicalProcessors: ProcessInfo.processInfo.activeProcessorCount, switches: switches.names())
    }

    /// Removes a switch no VM on this host uses.
    func removeSwitch(_ name: String) async throws {
        try await switches.remove(name, usedBy: await vms.vmNames(usingSwitch: name))
    }

    /// The host is shutting down (`viridian host shutdown`): a job that applies every running VM's
    /// automatic stop action, several at once. VMs do not start again until viridiand restarts.
    func shutDownHost() -> JobInfo {
        jobs.start(kind: "host.shutdown", vm: nil, description: "Applying the automatic stop actions of \(configuration.hostName)'s VMs") { progress in
            self.events.record(.information, .vmms, vm: nil, "host shutdown: applying the VMs' automatic stop actions")
            let lines = await self.vms.applyAutomaticStopActions(progress: progress)
            let failed = lines.filter { $0.contains(": failed: ") }
            guard failed.isEmpty else {
                throw ViridianError(.engineFailure, "the stop actions of \(failed.count) VM(s) failed: \(failed.joined(separator: "; "))")
            }
            return lines.isEmpty ? "no VM was running" : lines.joined(separator: "; ")
        }
    }

    /// Ends the event streams clients follow, so that the API server's graceful shutdown does not
    /// wait for them.
    public func closeEventStreams() {
        events.feed.close()
    }

    /// Stops jobs and lets go of the workers; running VMs keep running.
    public func shutDown() async {
        housekeeping.stop()
        metricsLoop.withLock { $0?.cancel() }
        await jobs.cancelAll()
        await incoming.abortAll()
        await backups.discardAllExports()
        await vms.detachAll()
        await peers.connections.shutDown()
        events.record(.information, .vmms, vm: nil, "viridiand stopped; running VMs keep running")
    }
}
