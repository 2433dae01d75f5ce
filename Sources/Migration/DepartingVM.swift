import APITypes
import Engine
import Inventory
import QMP

/// A VM as a move to another host sees it when the move begins.
package struct DepartingVM: Sendable {
    package let record: VMRecord
    package let integration: IntegrationRecord
    /// The worker's monitor, for a live move; nil for an Off VM.
    package let client: QMPClient?
    /// The state to return to when the move fails.
    package let previousState: VMState
    package let paths: WorkerPaths
    /// The ownership generation the VM had here; the destination's is one more.
    package let generation: Int64

    package init(record: VMRecord, integration: IntegrationRecord, client: QMPClient?, previousState: VMState,
                 paths: WorkerPaths, generation: Int64) {
        self.record = record
        self.integration = integration
        self.client = client
        self.previousState = previousState
        self.paths = paths
        self.generation = generation
    }
}
