import APITypes
import Backup
import Foundation
import HostServices

/// The VM host's side of backups (`BackupHost`): a backup or a restore over a VM holds the VM's turn.
extension VMManager: BackupHost {
    package func beginBackupOperation(_ name: String, _ kind: VMOperation.Kind, jobID: String?) throws -> BackupSubject {
        let vm = try lookup(name)
        try vm.record.configuration.requireNoPassThrough(vm: vm.record.name, VMOperation(kind).description)
        try vm.record.configuration.requireNotShielded(vm: vm.record.name, VMOperation(kind).description)
        try beginOperation(kind, vm, jobID: jobID)
        do {
            return BackupSubject(record: vm.record, paths: paths(vm), client: vm.worker?.client,
                                 hub: vm.record.state == .running ? vm.worker?.hub : nil, chains: try diskChains(vm.record.configuration))
        } catch {
            endOperation(vm.record.id)
            throw error
        }
    }

    package func endBackupOperation(_ id: String) {
        endOperation(id)
    }

    package func importRestored(folder: String, name: String) async throws -> VMInfo {
        try await importVM(ImportVMRequest(path: folder, name: name))
    }

    package func hasVM(named name: String) -> Bool {
        vms.values.contains { $0.record.name.lowercased() == name.lowercased() }
    }

    package func discardChangeTracking(_ id: String, reason: String) {
        guard let vm = vms[id] else { return }
        changeTracking(vm).invalidate(reason)
    }
}
