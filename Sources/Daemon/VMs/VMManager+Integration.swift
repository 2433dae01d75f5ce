import AgentProtocol
import APITypes
import Engine
import Foundation
import IntegrationServices
import Inventory
import Logging
import QMP

extension VMManager {
    /// The hub for a starting or re-attached worker, reporting to this manager.
    func makeIntegrationHub(_ vm: ManagedVM, logger: Logger) -> IntegrationHub {
        let id = vm.record.id
        let workerPaths = paths(vm)
        return IntegrationHub(vmName: vm.record.name, enabled: vm.record.configuration.integrationServices,
                              hostItems: vm.integration.hostItems, hostRelease: ViridianVersion.current,
                              socketPath: { workerPaths.integrationSocket($0) }, guestAgentSocket: workerPaths.guestAgentSocket,
                              logger: logger) { [weak self] event in
            Task { await self?.handleIntegration(event, id: id) }
        }
    }

    /// The guest's clock jumps after a pause, a restore or a migration: set it from the host's.
    func resynchronizeClock(id: String) {
        guard let hub = vms[id]?.worker?.hub else { return }
        Task { _ = try? await hub.synchronizeTime(.set) }
    }

    /// Logs what the integration services report; release changes once per change, not per beat.
    /// Everything here is triggered by the guest, so it goes through the per-VM limiter.
    func handleIntegration(_ event: IntegrationEvent, id: String) {
        guard let vm = vms[id] else { return }
        let name = vm.record.name
        switch event {
        case .negotiated(_, let negotiated):
            recordRelease(negotiated, id: id)
        case .heartbeatLost:
            recordGuestEvent(id: id, .warning, "the heartbeat of VM '\(name)' stopped: Lost Communication with its integration services")
        case .heartbeatRestored:
            recordGuestEvent(id: id, .information, "the heartbeat of VM '\(name)' is back")
        case .health(let health, let reason):
            if health == .degraded {
                recordGuestEvent(id: id, .warning, "the guest in VM '\(name)' reports its applications degraded: \(reason ?? "no reason given")")
            } else {
                recordGuestEvent(id: id, .information, "the guest in VM '\(name)' reports its applications OK")
            }
        case .autoThawed(let filesystems):
            recordGuestEvent(id: id, .warning,
                             "the guest in VM '\(name)' thawed \(filesystems.joined(separator: ", ")) by itself after the freeze timed out")
        case .clockStepped(let skew):
            // The host sets the clock (after a start, a pause, a restore or a move): not the guest's doing.
            events.record(.information, .integration, vm: name,
                          "set the clock of VM '\(name)' (it was \(String(format: "%.3f", Double(skew) / 1e9)) s off)")
        case .violation(let service, let reason):
            recordGuestEvent(id: id, .warning, "the guest in VM '\(name)' broke the \(service.rawValue) protocol (\(reason)); "
                             + "the host stops listening to it for a few seconds")
        case .itemsRejected(let reason):
            recordGuestEvent(id: id, .warning, "the guest in VM '\(name)' sent KVP items beyond the limits: \(reason)")
        }
    }

    /// Records an event the guest caused, within the VM's budget (`GuestEventLimiter`): a hostile or
    /// flapping guest cannot grow the event log without bound.
    func recordGuestEvent(id: String, _ level: EventLevel, _ message: String) {
        let name = vms[id]?.record.name
        switch guestEvents.admit(id) {
        case .suppress:
            return
        case .record(let suppressed):
            let note = suppressed > 0 ? " (\(suppressed) earlier event(s) from this guest were left out: it sends more than the host records)" : ""
            events.record(level, .integration, vm: name, message + note)
        }
    }

    private func recordRelease(_ negotiated: Negotiated, id: String) {
        guard var vm = vms[id], vm.integration.release != negotiated.release || vm.integration.agent != negotiated.agent else {
            return
        }
        let name = vm.record.name
        vm.integration.release = negotiated.release
        vm.integration.agent = negotiated.agent
        vm.integration.updatedAt = Date()
        vms[id] = vm
        storeIntegration(vm.integration)
        if Self.upgradeDue(release: negotiated.release) {
            events.record(.warning, .integration, vm: name,
                          "VM '\(name)' runs integration services \(negotiated.release), older than this host's "
                              + "\(ViridianVersion.current); upgrade with: viridian ic update \(name)")
        } else {
            events.record(.information, .integration, vm: name,
                          "VM '\(name)' runs integration services \(negotiated.release) (\(negotiated.agent))")
        }
    }

    func storeIntegration(_ record: IntegrationRecord) {
        do { try inventory.save(record) } catch {
            logger.error("cannot store integration services state", metadata: ["error": "\(error)"])
        }
    }

    /// True when `release` is older than the host's.
    static func upgradeDue(release: String?) -> Bool {
        guard let release, let guest = Release(release), let host = Release(ViridianVersion.current) else { return false }
        return guest < host
    }

    // MARK: Queries and settings

    /// Every integration service of a VM (`Get-VMIntegrationService`).
    public func integrationServices(_ name: String) throws -> [IntegrationServiceStatus] {
        let vm = try lookup(name)
        if let hub = vm.worker?.hub { return hub.status() }
        return IntegrationService.allCases.map { service in
            let enabled = vm.record.configuration.integrationServices.contains(service)
            return IntegrationServiceStatus(name: service.rawValue, displayName: service.hyperVName, enabled: enabled,
                                            primaryStatus: enabled ? IntegrationPrimaryStatus.noContact : IntegrationPrimaryStatus.disabled,
                                            secondaryStatus: nil, version: nil, release: nil, agent: nil)
        }
    }

    /// Enables or disables a service (`Enable-/Disable-VMIntegrationService`). On a running VM the
    /// guest's port is added or removed at once, so a disabled service is off on both sides.
    public func setIntegrationService(_ name: String, _ service: IntegrationService, enabled: Bool) async throws
        -> [IntegrationServiceStatus] {
        try await withOperation(.changingIntegration, try lookup(name)) { try await performSetIntegrationService(name, service, enabled: enabled) }
    }

    /// The body of `setIntegrationService`, holding the VM's turn.
    private func performSetIntegrationService(_ name: String, _ service: IntegrationService, enabled: Bool) async throws
        -> [IntegrationServiceStatus] {
        let vm = try lookup(name)
        let id = vm.record.id
        guard vm.record.configuration.integrationServices.contains(service) != enabled else { return try integrationServices(name) }
        guard !vm.record.state.isTransitional else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); try again when it settles")
        }
        if let worker = vm.worker {
            try await IntegrationPortPlug(client: worker.client, paths: paths(vm)).set(service, plugged: enabled)
            worker.hub.setEnabled(service, enabled)
        }
        guard var current = vms[id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        if enabled {
            current.record.configuration.integrationServices.insert(service)
        } else {
            current.record.configuration.integrationServices.remove(service)
        }
        vms[id] = current
        store(current.record)
        events.record(.information, .integration, vm: current.record.name,
                      "\(enabled ? "enabled" : "disabled") the \(service.rawValue) integration service of VM '\(current.record.name)'")
        // A script's next request uses the service: answer when the guest has taken it up, or say it is still coming up.
        if enabled, current.record.state == .running, let hub = current.worker?.hub, !(await hub.waitUntilAnswering(service)) {
            events.record(.warning, .integration, vm: current.record.name,
                          "the \(service.rawValue) integration service of VM '\(current.record.name)' is enabled but the guest has not taken it up yet")
        }
        return try integrationServices(name)
    }

    /// The hub of a running VM.
    public func integrationHub(_ name: String) throws -> IntegrationHub {
        let vm = try lookup(name)
        guard let hub = vm.worker?.hub, vm.record.state == .running else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); integration services need it Running")
        }
        return hub
    }

    // MARK: KVP

    public func kvpItems(_ name: String) throws -> KVPItems {
        let vm = try lookup(name)
        if let hub = vm.worker?.hub { return hub.kvpItems() }
        return KVPItems(guest: [:], guestUser: [:], host: vm.integration.hostItems)
    }

    /// Changes the host pool (`Add-/Remove-VMKeyValuePair`); it is kept across restarts and sent to the guest.
    public func changeKVP(_ name: String, _ change: KVPChangeRequest) async throws -> KVPItems {
        let vm = try lookup(name)
        var items = vm.integration.hostItems
        for key in change.remove {
            guard items.removeValue(forKey: key) != nil else {
                throw ViridianError(.notFound, "VM '\(vm.record.name)' has no host KVP item '\(key)'")
            }
        }
        for (key, value) in change.set {
            if let violation = KVPLimits.violation(key: key, value: value) { throw ViridianError(.invalidArgument, violation) }
            items[key] = value
        }
        guard items.count <= KVPLimits.maximumItems else {
            throw ViridianError(.invalidArgument, "the host pool holds at most \(KVPLimits.maximumItems) items")
        }
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        current.integration.hostItems = items
        current.integration.updatedAt = Date()
        vms[vm.record.id] = current
        storeIntegration(current.integration)
        await current.worker?.hub.setHostItems(items)
        return try kvpItems(name)
    }

    // MARK: Version report

    /// Every VM's integration services release against the host's (`viridian ic report`).
    public func integrationReport() -> [IntegrationReportEntry] {
        vms.values.sorted { $0.record.name.lowercased() < $1.record.name.lowercased() }.map { vm in
            let due = vm.integration.agent == IntegrationService.viridianAgentName && Self.upgradeDue(release: vm.integration.release)
            return IntegrationReportEntry(vm: vm.record.name, state: vm.record.state, version: vm.integration.release,
                                          hostVersion: ViridianVersion.current, agent: vm.integration.agent,
                                          status: vm.worker?.hub.heartbeatPrimaryStatus ?? IntegrationPrimaryStatus.noContact,
                                          upgradeDue: due)
        }
    }
}
