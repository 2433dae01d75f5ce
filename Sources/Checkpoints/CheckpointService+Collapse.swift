import APITypes
import Foundation
import HostServices
import Inventory
import QMP
import Storage

extension CheckpointService {
    /// Deletes or merges, one step at a time (`ImageCollapse`), the images of the VM's checkpoint
    /// folder that nothing needs any more; `vm` has the VM's current drives. Each step is stored
    /// before its file goes, so a daemon killed between steps leaves a tree that still reads right.
    /// Returns how many steps it took.
    @discardableResult
    func collapse(_ vm: VMRecord, folder: String, client: QMPClient?, progress: JobProgress) async throws -> Int {
        var vm = vm
        for steps in 0..<256 {
            let held = Set(try inventory.checkpoints(vmID: vm.id).flatMap(\.images))
            let active = Set(vm.configuration.drives.filter { $0.kind == .hardDisk }.compactMap(\.path))
            let overlays = try inventory.disks(inFolder: folder).map(\.path)
            var candidates = Set(overlays)
            for path in overlays {
                if let parent = try catalog.recorded(path)?.parentPath { candidates.insert(parent) }
            }
            let step = try ImageCollapse.nextStep(candidates: candidates, held: held, active: active,
                                                  dependents: { try catalog.dependents(of: $0) },
                                                  isOverlay: { $0.hasPrefix(folder + "/") })
            switch step {
            case nil:
                return steps
            case .delete(let image)?:
                var change = CheckpointChange(vm: vm, current: try inventory.currentCheckpoint(vmID: vm.id))
                change.forgottenDisks = [image]
                try await host.commit(change, state: nil)
                deleteFile(image, of: vm)
            case .merge(let child, let parent)?:
                progress.report(30, "merging \((child as NSString).lastPathComponent) into \(parent)")
                vm = try await merge(child, into: parent, vm: vm, client: client, progress: progress)
            }
        }
        throw ViridianError(.internalError, "the checkpoint images of VM '\(vm.name)' did not settle in 256 steps")
    }

    /// Writes `child` into `parent` (live when the worker has it open), points what was built on
    /// `child` at `parent`, stores that, and deletes `child`. Returns the VM with its drives after the merge.
    private func merge(_ child: String, into parent: String, vm: VMRecord, client: QMPClient?, progress: JobProgress) async throws -> VMRecord {
        guard let childImage = try catalog.recorded(child), let parentImage = try catalog.recorded(parent) else {
            throw ViridianError(.internalError, "\(child) or \(parent) is not a recorded disk")
        }
        let dependents = try catalog.dependents(of: child)
        var moved = vm
        for index in moved.configuration.drives.indices where moved.configuration.drives[index].path == child {
            moved.configuration.drives[index].path = parent
        }
        var change = CheckpointChange(vm: moved, current: try inventory.currentCheckpoint(vmID: vm.id))
        change.saved = try inventory.checkpoints(vmID: vm.id).filter { $0.images.contains(child) }.map { record in
            var repointed = record
            for index in repointed.configuration.drives.indices where repointed.configuration.drives[index].path == child {
                repointed.configuration.drives[index].path = parent
            }
            return repointed
        }
        change.recordedDisks = try dependents.compactMap { path in
            guard var record = try catalog.record(path) else { return nil }
            record.parentPath = parent
            return record
        }
        change.forgottenDisks = [child]
        let store = change
        if let client, try await client.formatNode(openingFile: child) != nil {
            guard let index = try driveIndex(holding: child, in: vm) else {
                throw ViridianError(.internalError, "no disk of VM '\(vm.name)' is built on \(child)")
            }
            var openInWorker: Set<String> = []
            for path in dependents where try await client.formatNode(openingFile: path) != nil { openInWorker.insert(path) }
            let warning = try await LiveMerge(client: client).merge(child, into: parent, driveIndex: index, record: {
                try await repoint(dependents.filter { !openInWorker.contains($0) }, from: child, to: parentImage, tool: diskTool(vm))
                try await host.commit(store, state: nil)
                Failpoints.crash(at: "merge-exit-before-pivot")
            }) { done, total in
                progress.report(30 + (total > 0 ? Int(done * 60 / total) : 0), "merging while the VM runs")
            }
            if let warning { events.record(.warning, .checkpoint, vm: vm.name, "VM '\(vm.name)': \(warning)") }
        } else {
            try await diskTool(vm).commit(child: childImage, into: parentImage) { percent in
                progress.report(30 + percent * 6 / 10, "merging \((child as NSString).lastPathComponent)")
            }
            try await repoint(dependents, from: child, to: parentImage, tool: diskTool(vm))
            try await host.commit(store, state: nil)
        }
        deleteFile(child, of: vm)
        return moved
    }

    /// Rewrites the parent named in the headers of the qcow2 disks `paths` (built on `child`, which now
    /// reads the same as `parent`); the inventory is what counts, the header is kept in step with it.
    private func repoint(_ paths: [String], from child: String, to parent: DiskImage, tool: DiskImageTool) async throws {
        for path in paths {
            guard let record = try catalog.record(path) else { continue }
            try await tool.replaceParent(of: DiskImage(path: path, format: record.format, parentPath: child), with: parent)
        }
    }

    /// The index of the hard disk whose current chain includes `image`.
    private func driveIndex(holding image: String, in vm: VMRecord) throws -> Int? {
        for (index, drive) in vm.configuration.drives.enumerated() where drive.kind == .hardDisk {
            guard let path = drive.path else { continue }
            if try catalog.recordedChain(path).contains(where: { $0.path == image }) { return index }
        }
        return nil
    }

    /// Deletes a checkpoint file nothing names any more; a failure is a warning (the file only takes space).
    func deleteFile(_ path: String, of vm: VMRecord) {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            events.record(.warning, .checkpoint, vm: vm.name, "VM '\(vm.name)': \(path) is no longer needed but could not be deleted: \(error.localizedDescription)")
        }
    }
}
