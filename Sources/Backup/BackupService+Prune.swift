import APITypes
import Foundation
import HostServices
import Storage

extension BackupService {
    /// Keeps the newest `keep` points of a VM's chain, as a job: the oldest kept point absorbs the
    /// points before it (each of its disks' files becomes full), so every remaining point restores.
    package func prune(_ request: PruneBackupRequest) throws -> JobInfo {
        guard (1...10_000).contains(request.keep) else { throw ViridianError(.invalidArgument, "--keep must be 1 to 10000 points") }
        let repository = try BackupRepository(path: request.path, create: false)
        let name = try requireChain(repository, vm: request.vm).vmName
        return job(kind: "backup.prune", vm: name, description: "Pruning the backups of \(name) in \(repository.root) to \(request.keep)",
                   failure: "pruning the backups of VM '\(name)'") { progress in
            try await repository.withChainLock(vm: name) {
                guard var chain = try repository.chain(ofVM: name) else { return "nothing to prune" }
                try await finishInterruptedFold(&chain, repository: repository)
                let before = chain.points.count
                while chain.points.count > request.keep {
                    try Task.checkCancellation()
                    progress.report((before - chain.points.count) * 100 / max(before - request.keep, 1), "folding point \(chain.points[0].name)")
                    let oldest = chain.points[0]
                    if chain.points[1].kind == .full {
                        chain.points.removeFirst()
                        try repository.store(chain)
                        try FileManager.default.removeItem(atPath: "\(repository.folder(ofVM: name))/\(oldest.name)")
                        continue
                    }
                    for point in chain.points[0...1] {
                        let found = await check(point, of: chain, in: repository)
                        guard found.problems.isEmpty else {
                            throw ViridianError(.invalidState, "point \(point.name) of VM '\(name)' is damaged (\(found.problems.joined(separator: "; "))); "
                                                + "nothing was pruned (see: viridian backup verify \(repository.root) --vm \(name))")
                        }
                    }
                    chain.pendingFold = PendingFold(from: oldest.name, into: chain.points[1].name)
                    try repository.store(chain)
                    try await finishInterruptedFold(&chain, repository: repository)
                }
                let removed = before - chain.points.count
                let summary = "VM '\(name)': \(removed) point\(removed == 1 ? "" : "s") folded away, \(chain.points.count) kept in \(repository.root)"
                events.record(.information, .backup, vm: name, summary)
                return summary
            }
        }
    }

    /// Finishes a fold of the chain's first point into its second (a prune that may have been
    /// interrupted at any step): each disk's second file is written into the first (`qemu-img
    /// commit`, which may run again) and the result renamed over the second, which becomes full.
    func finishInterruptedFold(_ chain: inout BackupChain, repository: BackupRepository) async throws {
        guard let fold = chain.pendingFold else { return }
        guard chain.points.count >= 2, chain.points[0].name == fold.from, chain.points[1].name == fold.into else {
            throw ViridianError(.invalidState, "the chain of VM '\(chain.vmName)' names an unfinished prune it does not match; "
                                + "edit nothing by hand and report it")
        }
        let folder = repository.folder(ofVM: chain.vmName)
        var into = chain.points[1]
        var checksums: [String: FileChecksums] = [:]
        for index in into.disks.indices {
            let disk = into.disks[index]
            let child = "\(folder)/\(fold.into)/\(disk.file)"
            let parent = "\(folder)/\(fold.from)/\(disk.file)"
            if FileManager.default.fileExists(atPath: parent) {
                try await catalog.tool.commit(child: DiskImage(path: child, format: .qcow2, parentPath: parent),
                                              into: DiskImage(path: parent, format: .qcow2)) { _ in }
                guard rename(parent, child) == 0 else {
                    throw ViridianError(.internalError, "cannot move \(parent) over \(child): \(String(cString: strerror(errno)))")
                }
            }
            checksums[disk.file] = try await FileChecksums(of: child)
            into.disks[index].bytes = Self.allocatedBytes(child)
        }
        for file in [into.nvram, into.tpmState].compactMap({ $0 }) {
            checksums[file] = try await FileChecksums(of: "\(folder)/\(fold.into)/\(file)")
        }
        try DiskPath.replaceAtomically(repository.checksumsFile(of: into, vm: chain.vmName), with: try WireJSON.encoder().encode(checksums))
        into.kind = .full
        into.note = "holds the points up to \(fold.from) folded in"
        chain.points[1] = into
        chain.points.removeFirst()
        chain.pendingFold = nil
        try repository.store(chain)
        try FileManager.default.removeItem(atPath: "\(folder)/\(fold.from)")
    }
}

/// A fold of the chain's first point into its second, recorded before it starts.
struct PendingFold: Codable, Sendable, Equatable {
    var from: String
    var into: String
}
