import APITypes
import Inventory

/// What a move to another host needs from the VM host (the source side). The VM host keeps each
/// VM's state machine and its ownership record; a move takes the VM through
/// `beginDeparture` → `noteMovePlan` → `markCommitting` → `departed`, or back with `departureFailed`.
package protocol DepartureHost: Sendable {
    /// Every VM here, for a drain.
    func list() async -> [VMSummary]
    /// Checks that `name` can move now, without changing anything.
    func checkMovable(_ name: String) async throws -> VMInfo
    /// Holds the VM for the move (job `jobID`) and marks its ownership `departing` to `peer`.
    func beginDeparture(_ name: String, to peer: String, jobID: String) async throws -> DepartingVM
    /// Records the destination's move id with the ownership record, for settling after a restart.
    func noteMovePlan(_ id: String, moveID: String) async throws
    /// Marks the ownership `committing`: from now on only the destination knows the outcome.
    func markCommitting(_ id: String) async throws
    /// The move failed: the VM stays here (running again when `outcomeKnown`; paused otherwise).
    func departureFailed(_ departing: DepartingVM, outcomeKnown: Bool) async
    /// The destination owns the VM: end the worker here and forget the VM, deleting `files`.
    func departed(_ departing: DepartingVM, to destination: String, deleting files: [String]) async
    /// The VM's ownership record. - Throws: when it is missing.
    func ownershipRecord(_ id: String) async throws -> OwnershipRecord
    /// VMs whose ownership says a move did not finish (the daemon stopped during it).
    func unfinishedDepartures() async throws -> [(record: OwnershipRecord, vm: DepartingVM)]
    /// Keeps an unsettled VM paused and busy until its move is settled (`endSettling`).
    func holdForSettling(_ id: String, jobID: String?) async
    /// Ends `holdForSettling` without another change.
    func endSettling(_ id: String) async
    /// The end of the VM's console log, which goes with it.
    func consoleLog(_ name: String, lastBytes: Int) async throws -> [UInt8]
}

extension DepartureHost {
    /// The move failed with a known outcome: the VM stays here and runs again if it ran.
    package func departureFailed(_ departing: DepartingVM) async {
        await departureFailed(departing, outcomeKnown: true)
    }
}
