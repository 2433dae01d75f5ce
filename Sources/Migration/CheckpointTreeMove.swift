import APITypes
import Foundation
import HostServices
import QMP
import Storage

/// A storage move of a disk under a VM's checkpoint tree (as Move-VMStorage moves a VHDX with its
/// checkpoints): the disk itself, the image under the tree's overlays, which no guest writes once
/// a checkpoint holds it, is copied flat into the new folder, a running worker switches the
/// overlay above it onto the copy (no pause), and every overlay that hangs from it names the copy
/// as its parent. The overlays stay in the VM's checkpoint folder.
struct CheckpointTreeMove: Sendable {
    /// One disk's move.
    struct Disk: Sendable {
        var index: Int
        /// The disk's recorded chain, the active overlay first.
        var chain: [DiskImage]
        /// Where the disk itself is in `chain` (the first image outside the checkpoint folder).
        var basePosition: Int
        var target: String
        /// The overlays whose parent is the disk itself (every branch's first).
        var dependents: [DiskImage]

        var base: DiskImage { chain[basePosition] }
        /// The image of the running chain right above the disk itself.
        var above: DiskImage { chain[basePosition - 1] }
        var moved: DiskImage { DiskImage(path: target, format: base.format) }
    }

    let catalog: DiskCatalog
    /// The worker, when the VM runs.
    let client: QMPClient?

    /// The disk's move when it is under checkpoint overlays in `checkpointFolder`; nil for a disk without.
    /// - Throws: `invalidState` naming a disk outside the tree that depends on it (moving would break it).
    static func plan(index: Int, path: String, checkpointFolder: String, directory: String, catalog: DiskCatalog) throws -> Disk? {
        let chain = try catalog.recordedChain(path)
        guard let position = chain.firstIndex(where: { !$0.path.hasPrefix(checkpointFolder + "/") }), position > 0 else { return nil }
        let base = chain[position]
        var dependents: [DiskImage] = []
        for dependent in try catalog.dependents(of: base.path) {
            guard dependent.hasPrefix(checkpointFolder + "/"), let image = try catalog.recorded(dependent) else {
                throw ViridianError(.invalidState, "\(dependent) is a differencing disk of \(base.path); moving \(base.path) would break it")
            }
            dependents.append(image)
        }
        return Disk(index: index, chain: chain, basePosition: position, target: "\(directory)/\(URL(fileURLWithPath: base.path).lastPathComponent)",
                    dependents: dependents)
    }

    /// Copies the disk itself (with its own parents, made flat) into its target, reporting percent.
    func copy(_ disk: Disk, progress: @escaping @Sendable (Int) -> Void) async throws {
        try await catalog.tool.convert(chain: Array(disk.chain[disk.basePosition...]), destinationPath: disk.target, format: disk.base.format,
                                       type: .dynamic, progress: progress)
    }

    /// Makes the overlays read from the copy: the running chain's overlay switched live, the others'
    /// headers rewritten. On failure what it changed is changed back.
    func repoint(_ disk: Disk) async throws {
        var rewritten: [DiskImage] = []
        var switched = false
        do {
            if let client {
                let backing = BackingSwitch(client: client)
                try await backing.open(disk.target, driver: disk.base.format.qemuName, node: Self.node(disk))
                let root = try await client.rootNode(ofDevice: "disk\(disk.index)")
                try await backing.repoint(disk.above.path, onto: Self.node(disk), path: disk.target, root: root)
                switched = true
            }
            for overlay in offlineDependents(disk) {
                try await catalog.tool.replaceParent(of: overlay, with: disk.moved)
                rewritten.append(overlay)
            }
        } catch {
            try await undo(disk, rewritten: rewritten, switched: switched, after: error)
            throw error
        }
    }

    /// Changes back what `repoint` did (the move could not be recorded).
    func restore(_ disk: Disk, after error: any Error) async throws {
        try await undo(disk, rewritten: offlineDependents(disk), switched: client != nil, after: error)
    }

    /// After the move is recorded: the worker lets go of the old files.
    func release(_ disk: Disk) async throws {
        guard let client else { return }
        try await LiveMerge(client: client).release(disk.chain[disk.basePosition...].map(\.path))
    }

    /// The overlays whose headers `qemu-img` rewrites: all of them, but the one a running worker holds.
    private func offlineDependents(_ disk: Disk) -> [DiskImage] {
        disk.dependents.filter { client == nil || $0.path != disk.above.path }
    }

    private static func node(_ disk: Disk) -> String { "mvb\(disk.index)" }

    /// Points the overlays back at the disk's old file and closes the copy's node.
    /// - Throws: an error naming both failures when that fails too (the overlays may name either file).
    private func undo(_ disk: Disk, rewritten: [DiskImage], switched: Bool, after failure: any Error) async throws {
        do {
            for overlay in rewritten { try await catalog.tool.replaceParent(of: overlay, with: disk.base) }
            guard let client else { return }
            if switched {
                guard let old = try await client.formatNode(openingFile: disk.base.path) else {
                    throw ViridianError(.engineFailure, "the worker no longer has \(disk.base.path) open")
                }
                try await BackingSwitch(client: client).repoint(disk.above.path, onto: old, path: disk.base.path,
                                                                root: try await client.rootNode(ofDevice: "disk\(disk.index)"))
            }
            if try await client.formatNode(openingFile: disk.target) != nil { try await client.blockdevDel(nodeName: Self.node(disk)) }
        } catch {
            throw ViridianError(.engineFailure, "moving \(disk.base.path) failed (\(ViridianError.wrapping(failure).message)), and putting its "
                                + "checkpoint overlays back failed too (\(ViridianError.wrapping(error).message)); see: viridian vhd show \(disk.above.path)")
        }
    }
}
