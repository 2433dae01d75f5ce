import APITypes
import Engine
import Foundation
import HostServices
import Inventory
import Logging
import Ownership
import QMP
import Storage

/// Owns every VM on this host: the inventory records, the QEMU workers, and the lifecycle
/// operations on them. Operations on one VM take turns through its state: while a VM is
/// Starting, Saving or Stopping, another lifecycle operation is refused with `invalidState`.
public actor VMManager {
    var vms: [String: ManagedVM] = [:]
    /// How many guest-triggered events each VM may still have recorded.
    var guestEvents = GuestEventLimiter()
    /// VMs arriving from other hosts, not yet committed: their memory is held for them.
    var arrivals: [String: VMRecord] = [:]
    /// Set by a host shutdown: no VM starts until viridiand restarts.
    var hostIsStopping = false
    let inventory: Inventory
    let jobs: JobManager
    let events: EventLog
    let catalog: DiskCatalog
    let launcher: WorkerLauncher
    let accelerator: Accelerator
    let stateDirectory: String
    let host: HostCapacity
    let settings: HostSettingsStore
    let switches: SwitchService
    /// Who may run each VM (this host's inventory now; etcd in a cluster).
    let ownership: any OwnershipStore
    let logger: Logger

    init(inventory: Inventory, jobs: JobManager, events: EventLog, catalog: DiskCatalog, launcher: WorkerLauncher,
         accelerator: Accelerator, stateDirectory: String, settings: HostSettingsStore, switches: SwitchService,
         ownership: any OwnershipStore, logger: Logger) throws {
        self.ownership = ownership
        self.inventory = inventory
        self.jobs = jobs
        self.events = events
        self.catalog = catalog
        self.launcher = launcher
        self.accelerator = accelerator
        self.stateDirectory = stateDirectory
        self.settings = settings
        self.switches = switches
        self.logger = logger
        self.host = HostCapacity(logicalProcessors: ProcessInfo.processInfo.activeProcessorCount,
                                 memoryMiB: Int(ProcessInfo.processInfo.physicalMemory >> 20))
        let integrations = try inventory.integrationRecords()
        for record in try inventory.allVMs() {
            vms[record.id] = ManagedVM(record: record,
                                       integration: integrations[record.id] ?? IntegrationRecord.empty(vmID: record.id))
        }
    }

    // MARK: Queries

    /// Every VM, by name.
    public func list() -> [VMSummary] {
        vms.values.map { ($0.record.name.lowercased(), $0.summary) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// One VM by name (case-insensitive), with its worker's own run state.
    public func show(_ name: String) async throws -> VMInfo {
        let vm = try lookup(name)
        var info = vm.info
        if let worker = vm.worker {
            do {
                info.engineStatus = try await worker.client.queryStatus(timeout: .seconds(5)).status
            } catch {
                info.engineStatus = "not answering (\(ViridianError.wrapping(error).message))"
            }
        }
        return info
    }

    /// How many VMs there are and how many have a worker.
    public func counts() -> (total: Int, running: Int) {
        (vms.count, vms.values.filter { $0.record.state.hasWorker }.count)
    }

    func lookup(_ name: String) throws -> ManagedVM {
        guard let vm = vms.values.first(where: { $0.record.name.lowercased() == name.lowercased() }) else {
            throw ViridianError(.notFound, "no VM named '\(name)' on this host (see: viridian vm list)")
        }
        return vm
    }

    /// Memory VMs may still get: physical memory less the host's reserve, the VMs with a
    /// worker and the VMs arriving.
    func availableMemoryMiB() -> Int {
        let assigned = vms.values.filter { $0.record.state.hasWorker }.map(\.record.configuration.memoryMiB).reduce(0, +)
            + arrivals.values.map(\.configuration.memoryMiB).reduce(0, +)
        return host.memoryMiB - settings.settings.memoryReserveMiB - assigned
    }

    /// Refuses when `memoryMiB` more would not fit.
    func requireMemory(_ memoryMiB: Int, for name: String) throws {
        let available = availableMemoryMiB()
        guard memoryMiB <= available else {
            throw ViridianError(.conflict, "not enough memory for VM '\(name)': it needs \(memoryMiB) MiB and this host has \(max(0, available)) MiB left for VMs (\(host.memoryMiB) MiB, \(settings.settings.memoryReserveMiB) MiB kept for the host; see viridian host set --memory-reserve)")
        }
    }

    func paths(_ vm: ManagedVM) -> WorkerPaths {
        WorkerPaths(stateDirectory: stateDirectory, vmID: vm.record.id)
    }

    /// Changes a VM's state, stores it, and notes when it started running.
    func setState(_ id: String, _ state: VMState) {
        guard var vm = vms[id], vm.record.state != state else { return }
        vm.record.state = state
        if state == .running, vm.record.startedAt == nil { vm.record.startedAt = Date() }
        if !state.hasWorker { vm.record.startedAt = nil }
        vms[id] = vm
        store(vm.record)
    }

    func store(_ record: VMRecord) {
        do { try inventory.update(record) } catch {
            logger.error("cannot store VM", metadata: ["vm": "\(record.name)", "error": "\(error)"])
        }
    }

    /// The VM whose hard disks or DVDs include `path`, if any (other than `excluding`).
    func vmUsing(path: String, excluding: String? = nil) -> ManagedVM? {
        vms.values.first { vm in
            vm.record.id != excluding && vm.record.configuration.drives.contains { $0.path == path }
        }
    }

    /// Which VM uses the disk at `path`, for `vhd show`.
    public func attachment(of path: String) -> String? {
        vmUsing(path: path)?.record.name
    }

    /// Refuses when a disk at `path` (or a disk whose parent chain includes it) belongs to a VM with a worker.
    public func requireNotInUseByRunningVM(_ path: String) async throws {
        for vm in vms.values where vm.record.state.hasWorker {
            for drive in vm.record.configuration.drives where drive.kind == .hardDisk {
                guard let disk = drive.path else { continue }
                let chain = try catalog.recorded(disk).map { try catalog.chain($0).map(\.path) } ?? [disk]
                if chain.contains(path) {
                    throw ViridianError(.conflict, "\(path) is in use by the running VM '\(vm.record.name)'")
                }
            }
        }
    }
}

extension VMManager {
    /// The last `lastBytes` of the VM's console log (every boot, appended; across its rotated copies).
    public func consoleLog(_ name: String, lastBytes: Int) throws -> [UInt8] {
        let vm = try lookup(name)
        try requireGuestAccess(vm, "its console log")
        do {
            return try ConsoleLogRotation.tail(paths(vm).consoleLog, count: lastBytes)
        } catch {
            throw ViridianError(.internalError, "cannot read the console log of VM '\(vm.record.name)'", cause: error)
        }
    }

    /// Keeps the console logs of running VMs within their bound (`ConsoleLogRotation`).
    func rotateConsoleLogs() {
        for vm in vms.values where vm.worker != nil {
            do {
                if try ConsoleLogRotation.rotateIfNeeded(paths(vm).consoleLog) {
                    logger.info("rotated the console log", metadata: ["vm": "\(vm.record.name)"])
                }
            } catch {
                events.record(.warning, .vmms, vm: vm.record.name, "cannot rotate the console log of VM '\(vm.record.name)': \(error)")
            }
        }
    }

    /// The console socket of a VM whose worker runs.
    public func consoleSocket(_ name: String) throws -> String {
        let vm = try lookup(name)
        try requireGuestAccess(vm, "its console")
        guard vm.worker != nil else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); its console exists only while it runs")
        }
        return paths(vm).consoleSocket
    }

    /// The running VM's VNC socket, for the web console's graphical console.
    public func vncSocket(_ name: String) throws -> String {
        let vm = try lookup(name)
        try requireGuestAccess(vm, "its graphical console")
        guard vm.record.configuration.video else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no video adapter (turn it on while Off: viridian vm set \(vm.record.name) --video on)")
        }
        guard vm.worker != nil else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); its screen exists only while it runs")
        }
        return paths(vm).vncSocket
    }
}
