import APITypes
import Inventory

/// What a move from another host needs from the VM host (the destination side): a place held
/// for the VM, its waiting worker, and the arrival stored — with the move's committed outcome and
/// the VM's next ownership generation — in one transaction before its processors run here.
package protocol ArrivalHost: Sendable {
    /// Why this host's QEMU cannot run `configuration`'s machine type, if it cannot.
    func machineTypeRefusal(_ configuration: VMConfiguration) -> String?
    /// Holds a place for the VM: name and id free, memory available, files present (but `arriving`).
    func reserveArrival(_ record: VMRecord, from source: String, arriving: Set<String>) async throws
    /// Gives back a place `reserveArrival` held (the move failed).
    func releaseArrival(_ id: String) async
    /// Launches the worker that waits, paused, for the VM's memory over TLS; returns its pid.
    func launchArrivalWorker(_ record: VMRecord, tlsDirectory: String) async throws -> Int32
    /// Stores the VM as this host's, with the move's committed outcome and ownership generation
    /// `sourceGeneration + 1`, in one transaction.
    func storeArrival(_ record: VMRecord, integration: IntegrationRecord, live: Bool, moveID: String,
                      sourceGeneration: Int64?) async throws
    /// The committed outcome of the move `id`, from what is persisted. - Throws: when it cannot be read.
    func committedMove(_ id: String) throws -> Bool
    /// Takes over the worker of a stored arrival (live moves); returns the VM as it is here.
    func takeOverArrival(_ record: VMRecord, workerPID: Int32?, from source: String) async throws -> VMInfo
}
