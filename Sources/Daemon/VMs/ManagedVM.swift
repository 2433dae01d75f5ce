import APITypes
import Engine
import Foundation
import IntegrationServices
import Inventory
import QMP

/// A running QEMU worker as the manager holds it.
struct Worker: Sendable {
    var client: QMPClient
    var pid: Int32
    /// The VM's integration services while the worker runs.
    var hub: IntegrationHub
    /// Reads the worker's QMP events until its monitor closes.
    var watcher: Task<Void, Never>
}

/// One VM inside the manager: its stored record, its worker while one runs, and how an exit
/// of that worker is to be read.
struct ManagedVM: Sendable {
    var record: VMRecord
    /// The release its agent last negotiated and the KVP host pool.
    var integration: IntegrationRecord
    var worker: Worker?
    /// The state the VM takes when its worker exits: Off, or Saved once a save has completed.
    var stateAfterExit: VMState = .off
    /// Set while a turn-off or stop was asked for, so an exit is not reported as a crash.
    var exitExpected = false
    /// The operation that holds the VM's turn (see `VMManager+Operations`).
    var operation: VMOperation?

    var summary: VMSummary {
        let configuration = record.configuration
        return VMSummary(id: record.id, name: record.name, state: record.state, generation: configuration.generation.rawValue,
                         processorCount: configuration.processorCount, memoryMiB: configuration.memoryMiB,
                         uptimeSeconds: uptimeSeconds)
    }

    /// Seconds since the guest started running; nil when it has no worker.
    private var uptimeSeconds: Double? {
        record.startedAt.map { Date().timeIntervalSince($0) }
    }

    var info: VMInfo {
        VMInfo(id: record.id, name: record.name, state: record.state, configuration: record.configuration,
               notes: record.notes, image: record.image,
               uptimeSeconds: uptimeSeconds,
               workerPID: worker?.pid, operation: operation, createdAt: record.createdAt)
    }
}
