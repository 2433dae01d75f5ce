import APITypes
import Foundation
import HostServices
import Inventory

extension CheckpointService {
    /// Removes a checkpoint, or with `subtree` it and every checkpoint taken after it on its branches
    /// (Remove-VMCheckpoint), as a job. The checkpoints after it hang from its parent; the disk images
    /// no checkpoint needs any more are merged into what depends on them, live on a running VM.
    package func remove(_ name: String, checkpoint: String, subtree: Bool) async throws -> JobInfo {
        let vm = try await host.checkCheckpointable(name, busyAllowed: false)
        let target = try find(checkpoint, of: vm)
        return operationJob(vm.name, .removingCheckpoint, jobKind: "vm.checkpoint-remove",
                            description: "Removing checkpoint '\(target.name)'\(subtree ? " and its subtree" : "") of \(vm.name)",
                            failure: "removing checkpoint '\(target.name)'") { subject, progress in
            try await discard(target, subtree: subtree, of: subject, progress: progress)
        }
    }

    private func discard(_ target: CheckpointRecord, subtree: Bool, of subject: CheckpointSubject, progress: JobProgress) async throws -> String {
        let vm = subject.record
        let all = try inventory.checkpoints(vmID: vm.id)
        let parents = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.parentID) })
        var doomed: Set<String> = [target.id]
        if subtree {
            var grew = true
            while grew {
                let before = doomed.count
                for record in all where record.parentID.map(doomed.contains) == true { doomed.insert(record.id) }
                grew = doomed.count != before
            }
        }
        /// The nearest ancestor of `id` (itself included) that stays.
        func survivor(_ id: String?) -> String? {
            var current = id
            while let checkpoint = current, doomed.contains(checkpoint) { current = parents[checkpoint] ?? nil }
            return current
        }
        var change = CheckpointChange(vm: vm, current: survivor(try inventory.currentCheckpoint(vmID: vm.id)))
        change.deleted = Array(doomed)
        change.saved = all.filter { !doomed.contains($0.id) && $0.parentID.map(doomed.contains) == true }.map { record in
            var moved = record
            moved.parentID = survivor(record.parentID)
            return moved
        }
        try await host.commit(change, state: nil)
        for record in all where doomed.contains(record.id) {
            for file in [record.memoryFile, record.nvramFile, record.tpmStateFile].compactMap({ $0 }) { deleteFile(file, of: vm) }
        }
        progress.report(20, "merging the disk images no checkpoint needs")
        let merged = try await collapse(vm, folder: subject.folder, client: subject.client, progress: progress)
        let names = all.filter { doomed.contains($0.id) }.map { "'\($0.name)'" }.joined(separator: ", ")
        events.record(.information, .checkpoint, vm: vm.name, "VM '\(vm.name)': checkpoint\(doomed.count == 1 ? "" : "s") \(names) removed")
        return "removed \(names); \(merged) disk image\(merged == 1 ? "" : "s") merged or deleted"
    }
}
