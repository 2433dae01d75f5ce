import APITypes
import Foundation
import Storage

/// Virtual hard disk operations with the host's view of them: which VM uses a disk, and no
/// change to a disk a running VM has open.
struct VHDService: Sendable {
    let disks: DiskImageTool
    let vms: VMManager
    let jobs: JobManager
    let events: EventLog

    func create(_ request: NewVHDRequest) async throws -> VHDInfo {
        if let parent = request.parentPath {
            guard request.type == nil || request.type == .differencing else {
                throw ViridianError(.invalidArgument, "a disk with a parent is a differencing disk")
            }
            try await disks.createDifferencing(path: request.path, parentPath: parent)
        } else {
            guard let size = request.sizeBytes else {
                throw ViridianError(.invalidArgument, "a new disk needs a size (or a parent for a differencing disk)")
            }
            guard let format = request.format ?? VHDFormat.from(path: request.path) else {
                throw ViridianError(.invalidArgument, "cannot tell the format of \(request.path); end it in .vhdx, .vhd or .qcow2 or give --format")
            }
            try await disks.create(path: request.path, format: format, type: request.type ?? .dynamic, sizeBytes: size)
        }
        events.record(.information, .storage, vm: nil, "virtual hard disk \(request.path) was created")
        return try await show(request.path)
    }

    func show(_ path: String) async throws -> VHDInfo {
        var info = try await disks.info(path: path)
        info.attachedTo = await vms.attachment(of: path)
        return info
    }

    func resize(_ request: ResizeVHDRequest) async throws -> VHDInfo {
        try await vms.requireNotInUseByRunningVM(request.path)
        try await disks.resize(path: request.path, sizeBytes: request.sizeBytes)
        return try await show(request.path)
    }

    func convert(_ request: ConvertVHDRequest) async throws -> JobInfo {
        try DiskPath.requireExisting(request.sourcePath)
        try DiskPath.requireAbsent(request.destinationPath)
        try await vms.requireNotInUseByRunningVM(request.sourcePath)
        guard let format = request.format ?? VHDFormat.from(path: request.destinationPath) else {
            throw ViridianError(.invalidArgument, "cannot tell the format of \(request.destinationPath); give --format")
        }
        return jobs.start(kind: "vhd.convert", vm: nil, description: "Converting \(request.sourcePath)") { progress in
            try await disks.convert(sourcePath: request.sourcePath, destinationPath: request.destinationPath, format: format,
                                    type: request.type ?? .dynamic) { progress.report($0) }
            events.record(.information, .storage, vm: nil, "\(request.sourcePath) was converted to \(request.destinationPath)")
            return request.destinationPath
        }
    }

    func merge(_ request: MergeVHDRequest) async throws -> JobInfo {
        let info = try await disks.info(path: request.path)
        guard let parent = info.parentPath else {
            throw ViridianError(.invalidArgument, "\(request.path) is not a differencing disk")
        }
        try await vms.requireNotInUseByRunningVM(request.path)
        try await vms.requireNotInUseByRunningVM(parent)
        if let owner = await vms.attachment(of: request.path) {
            throw ViridianError(.conflict, "\(request.path) is attached to VM '\(owner)'; detach it before merging")
        }
        return jobs.start(kind: "vhd.merge", vm: nil, description: "Merging \(request.path)") { progress in
            let parent = try await disks.merge(path: request.path) { progress.report($0) }
            events.record(.information, .storage, vm: nil, "\(request.path) was merged into \(parent)")
            return parent
        }
    }
}
