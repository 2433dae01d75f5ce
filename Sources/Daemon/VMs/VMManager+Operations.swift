import APITypes
import Foundation
import HostServices

/// One operation per VM at a time. An operation takes the VM's turn synchronously on the
/// manager's actor before its first `await`, so two requests can never both pass the checks
/// and then overwrite each other's state; the second gets `busy`, naming the first and its job.
extension VMManager {
    /// Refuses when the VM is in the middle of another operation.
    func requireIdle(_ vm: ManagedVM) throws {
        if let operation = vms[vm.record.id]?.operation {
            throw ViridianError(.busy, "VM '\(vm.record.name)' is busy: \(operation); try again when it ends (see: viridian jobs)")
        }
    }

    /// Takes the VM's turn for `kind`. - Throws: `busy` while another operation holds it.
    func beginOperation(_ kind: VMOperation.Kind, _ vm: ManagedVM, jobID: String? = nil) throws {
        try requireIdle(vm)
        vms[vm.record.id]?.operation = VMOperation(kind, jobID: jobID)
    }

    /// Gives the VM's turn back.
    func endOperation(_ id: String) {
        vms[id]?.operation = nil
    }

    /// Runs `body` holding the VM's turn for `kind` (operations answered in the request).
    func withOperation<T: Sendable>(_ kind: VMOperation.Kind, _ vm: ManagedVM,
                                    _ body: () async throws -> T) async throws -> T {
        try beginOperation(kind, vm)
        defer { endOperation(vm.record.id) }
        return try await body()
    }

    /// Starts a job that holds the VM's turn for `kind` until it ends, however it ends.
    func startOperationJob(_ kind: VMOperation.Kind, _ vm: ManagedVM, jobKind: String, description: String,
                           body: @escaping @Sendable (JobProgress) async throws -> String?) throws -> JobInfo {
        try beginOperation(kind, vm)
        let id = vm.record.id
        let job = jobs.start(kind: jobKind, vm: vm.record.name, description: description) { progress in
            do {
                let result = try await body(progress)
                await self.endOperation(id)
                return result
            } catch {
                await self.endOperation(id)
                throw error
            }
        }
        vms[id]?.operation?.jobID = job.id
        return job
    }
}
