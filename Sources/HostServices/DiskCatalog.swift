import APITypes
import Foundation
import Inventory
import Storage

/// The disks Viridian knows and what it recorded about each: format, parent, origin.
///
/// A disk's facts are recorded when Viridian creates it or when the administrator first names
/// it (one probe, see `DiskImageTool.probe`), and every later use reads them from here — never
/// from the file, which a guest may have written. Parents are protected: a disk another disk
/// depends on cannot be merged into, resized, deleted or attached writable.
package final class DiskCatalog: Sendable {
    package let tool: DiskImageTool
    private let inventory: Inventory

    package init(tool: DiskImageTool, inventory: Inventory) {
        self.tool = tool
        self.inventory = inventory
    }

    /// The recorded facts of `path`, or nil when Viridian does not know it.
    package func recorded(_ path: String) throws -> DiskImage? {
        try inventory.disk(path: path).map { DiskImage(path: $0.path, format: $0.format, parentPath: $0.parentPath) }
    }

    /// The record of `path`, with its origin and owner.
    package func record(_ path: String) throws -> DiskRecord? {
        try inventory.disk(path: path)
    }

    /// The facts of a disk the administrator names: the recorded ones, or — for a file Viridian
    /// has never seen — one probe, recorded (with its parents) when `remember` is set.
    /// - Throws: when `declared` contradicts the record, or the file is no disk image.
    package func identify(_ path: String, declared: VHDFormat? = nil, remember: Bool) async throws -> DiskImage {
        guard let top = try await identifyChain(path, declared: declared, remember: remember).first else {
            throw ViridianError(.internalError, "no disk at \(path)")
        }
        return top
    }

    /// `identify` with the whole chain: the disk, its parent, grandparent…
    package func identifyChain(_ path: String, declared: VHDFormat? = nil, remember: Bool) async throws -> [DiskImage] {
        if let known = try recorded(path) {
            if let declared, declared != known.format {
                throw ViridianError(.invalidArgument, "\(path) is recorded as a \(known.format.rawValue) disk, not \(declared.rawValue)")
            }
            try DiskPath.requireRegularFile(path)
            return try chain(known)
        }
        var probed: [DiskImage] = []
        var next: (path: String, declared: VHDFormat?)? = (path, declared)
        while let current = next {
            guard probed.count < 64 else { throw ViridianError(.invalidArgument, "\(path) has more than 64 parents") }
            if let known = try recorded(current.path) {
                if let format = current.declared, format != known.format {
                    throw ViridianError(.invalidArgument, "\(current.path) is recorded as \(known.format.rawValue), but its child names it \(format.rawValue)")
                }
                probed += try chain(known)
                break
            }
            let probe = try await tool.probe(path: current.path, declared: current.declared)
            probed.append(DiskImage(path: current.path, format: probe.format, parentPath: probe.parentPath))
            next = probe.parentPath.map { ($0, probe.parentFormat) }
        }
        if remember {
            for image in probed.reversed() where try recorded(image.path) == nil {
                try inventory.save(DiskRecord(path: image.path, format: image.format, parentPath: image.parentPath,
                                              origin: .attached, ownerVMID: nil))
            }
        }
        return probed
    }

    /// The recorded chain of `image`: the disk, its parent, grandparent…
    package func chain(_ image: DiskImage) throws -> [DiskImage] {
        var chain = [image]
        while let parentPath = chain.last?.parentPath {
            guard chain.count < 64 else { throw ViridianError(.invalidArgument, "\(image.path) has more than 64 parents") }
            guard let parent = try recorded(parentPath) else {
                throw ViridianError(.notFound, "the parent \(parentPath) of \(chain.last?.path ?? image.path) is not recorded")
            }
            chain.append(parent)
        }
        return chain
    }

    /// The recorded chain of the disk a VM uses at `path`.
    /// - Throws: `notFound`, with the way out, for a file Viridian has no record of.
    package func recordedChain(_ path: String) throws -> [DiskImage] {
        guard let image = try recorded(path) else {
            throw ViridianError(.notFound, "\(path) is not a recorded disk; detach it and attach it again (viridian vm disk add)")
        }
        return try chain(image)
    }

    /// Records a disk Viridian made.
    package func recordCreated(_ image: DiskImage, owner vmID: String? = nil) throws {
        try inventory.save(DiskRecord(path: image.path, format: image.format, parentPath: image.parentPath,
                                      origin: .created, ownerVMID: vmID))
    }

    /// Records a disk whose facts come from a trusted peer (a VM moving here on shared storage).
    package func recordFromPeer(_ image: DiskImage) throws {
        if let known = try recorded(image.path) {
            guard known == image else {
                throw ViridianError(.conflict, "\(image.path) is recorded here as \(known.format.rawValue)"
                                    + " with parent \(known.parentPath ?? "none"); the source says \(image.format.rawValue)"
                                    + " with parent \(image.parentPath ?? "none")")
            }
            return
        }
        try inventory.save(DiskRecord(path: image.path, format: image.format, parentPath: image.parentPath,
                                      origin: .attached, ownerVMID: nil))
    }

    /// Records that the disk at `path` no longer has a parent: its file was rewritten flat (a backup restored over it).
    package func recordFlattened(_ path: String) throws {
        guard var record = try record(path) else { throw ViridianError(.notFound, "\(path) is not a recorded disk") }
        record.parentPath = nil
        try inventory.save(record)
    }

    /// Forgets a disk whose file is gone.
    package func forget(_ path: String) throws {
        try inventory.deleteDisk(path: path)
    }

    /// The disks whose parent is `path`.
    package func dependents(of path: String) throws -> [String] {
        try inventory.disks(withParent: path).map(\.path)
    }

    /// Refuses to change `path` in a way that would corrupt the disks built on it, or the checkpoints that hold it.
    package func requireNoDependents(_ path: String, _ action: String, except: String? = nil) throws {
        let dependents = try dependents(of: path).filter { $0 != except }
        guard dependents.isEmpty else {
            throw ViridianError(.conflict, "\(path) cannot be \(action): it is the parent of \(dependents.joined(separator: ", "))")
        }
        let checkpoints = try inventory.checkpointsHolding(path)
        guard checkpoints.isEmpty else {
            throw ViridianError(.conflict, "\(path) cannot be \(action): it holds the checkpoint\(checkpoints.count == 1 ? "" : "s") "
                                + checkpoints.map { "'\($0)'" }.joined(separator: ", ") + " (see: viridian vm checkpoint list)")
        }
    }

    /// A disk that VMs created before Viridian recorded disks use: recorded with the format the
    /// worker was given then (the file name's extension, raw otherwise) — no probe of a file a
    /// guest may have written. A qcow2's parent comes from its header, which QEMU alone writes.
    package func adoptLegacy(_ path: String) async throws {
        guard try recorded(path) == nil, FileManager.default.fileExists(atPath: path) else { return }
        let format = VHDFormat.from(path: path) ?? .raw
        var parent: String?
        if format == .qcow2 {
            let probe = try await tool.probe(path: path, declared: .qcow2)
            parent = probe.parentPath
            if let parentPath = probe.parentPath {
                _ = try await identify(parentPath, declared: probe.parentFormat, remember: true)
            }
        }
        try inventory.save(DiskRecord(path: path, format: format, parentPath: parent, origin: .attached, ownerVMID: nil))
    }
}
