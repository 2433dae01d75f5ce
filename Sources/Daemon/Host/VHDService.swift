import APITypes
import Foundation
import HostServices
import Storage

/// Virtual hard disk operations with the host's view of them: the recorded facts of each disk,
/// which VM uses it, which disks depend on it, and no change to a disk a running VM has open.
struct VHDService: Sendable {
    let catalog: DiskCatalog
    let vms: VMManager
    let jobs: JobManager
    let events: EventLog

    private var tool: DiskImageTool { catalog.tool }

    func create(_ request: NewVHDRequest) async throws -> VHDInfo {
        if let parentPath = request.parentPath {
            guard request.type == nil || request.type == .differencing else {
                throw ViridianError(.invalidArgument, "a disk with a parent is a differencing disk")
            }
            let parent = try await catalog.identify(parentPath, remember: true)
            try await tool.createDifferencing(path: request.path, parent: parent)
            try catalog.recordCreated(DiskImage(path: request.path, format: .qcow2, parentPath: parent.path))
        } else {
            guard let size = request.sizeBytes else {
                throw ViridianError(.invalidArgument, "a new disk needs a size (or a parent for a differencing disk)")
            }
            guard let format = request.format ?? VHDFormat.from(path: request.path) else {
                throw ViridianError(.invalidArgument, "cannot tell the format of \(request.path); end it in .vhdx, .vhd or .qcow2 or give --format")
            }
            try await tool.create(path: request.path, format: format, type: request.type ?? .dynamic, sizeBytes: size)
            try catalog.recordCreated(DiskImage(path: request.path, format: format))
        }
        events.record(.information, .storage, vm: nil, "virtual hard disk \(request.path) was created")
        return try await show(request.path)
    }

    /// Get-VHD: the recorded facts, and what qemu-img reads with them. A file Viridian does not
    /// know is probed once (and not recorded); a raw one only when `declared` says so.
    func show(_ path: String, declared: VHDFormat? = nil) async throws -> VHDInfo {
        let image = try await catalog.identify(path, declared: declared, remember: false)
        var info = try await tool.info(image)
        info.attachedTo = await vms.attachment(of: path)
        return info
    }

    /// Resize-VHD: a disk a running VM has on SCSI grows live; any other disk with qemu-img, while no running VM uses it.
    func resize(_ request: ResizeVHDRequest) async throws -> VHDInfo {
        let image = try await catalog.identify(request.path, remember: false)
        try catalog.requireNoDependents(image.path, "resized")
        if try await !vms.resizeInUse(image, sizeBytes: request.sizeBytes) {
            try await vms.requireNotInUseByRunningVM(request.path)
            try await tool.resize(image, sizeBytes: request.sizeBytes)
        }
        return try await show(request.path)
    }

    func convert(_ request: ConvertVHDRequest) async throws -> JobInfo {
        let chain = try await catalog.identifyChain(request.sourcePath, declared: request.sourceFormat, remember: false)
        try DiskPath.requireAbsent(request.destinationPath)
        try await vms.requireNotInUseByRunningVM(request.sourcePath)
        guard let format = request.format ?? VHDFormat.from(path: request.destinationPath) else {
            throw ViridianError(.invalidArgument, "cannot tell the format of \(request.destinationPath); give --format")
        }
        return jobs.start(kind: "vhd.convert", vm: nil, description: "Converting \(request.sourcePath)") { progress in
            try await tool.convert(chain: chain, destinationPath: request.destinationPath, format: format,
                                   type: request.type ?? .dynamic) { progress.report($0) }
            try catalog.recordCreated(DiskImage(path: request.destinationPath, format: format))
            events.record(.information, .storage, vm: nil, "\(request.sourcePath) was converted to \(request.destinationPath)")
            return request.destinationPath
        }
    }

    /// Repair-VHD: checks the disk and repairs what qemu-img can (a VHDX's unreplayed log
    /// first). The recorded format is used; a file Viridian does not know is probed once. No VM
    /// may have it open while it runs.
    func repair(_ request: RepairVHDRequest) async throws -> VHDRepairReport {
        let image: DiskImage
        if let recorded = try catalog.recorded(request.path) {
            if let declared = request.format, declared != recorded.format {
                throw ViridianError(.conflict, "\(request.path) is recorded as \(recorded.format.rawValue), not \(declared.rawValue)")
            }
            image = recorded
        } else {
            image = DiskImage(path: request.path, format: try await tool.formatForRepair(path: request.path, declared: request.format))
        }
        try await vms.requireNotInUseByRunningVM(request.path)
        let report = try await tool.repair(image)
        // qemu-img counts a replayed VHDX log as one fixed corruption.
        let otherFixes = report.corruptionsFixed - (report.logReplayed ? 1 : 0)
        let fixed = (report.logReplayed ? ["its log was replayed"] : [])
            + (otherFixes > 0 ? ["\(otherFixes) corruption(s) fixed"] : [])
            + (report.leaksFixed > 0 ? ["\(report.leaksFixed) leaked cluster(s) freed"] : [])
        let left = report.corruptionsLeft + report.leaksLeft
        events.record(left > 0 ? .warning : .information, .storage, vm: nil,
                      "\(request.path) was checked: " + (fixed.isEmpty ? "nothing to repair" : fixed.joined(separator: ", "))
                      + (left > 0 ? "; \(report.corruptionsLeft) corruption(s) and \(report.leaksLeft) leak(s) remain" : ""))
        return report
    }

    func merge(_ request: MergeVHDRequest) async throws -> JobInfo {
        let child = try await catalog.identify(request.path, remember: false)
        guard let parentPath = child.parentPath else {
            throw ViridianError(.invalidArgument, "\(request.path) is not a differencing disk")
        }
        let parent = try await catalog.identify(parentPath, remember: false)
        try catalog.requireNoDependents(child.path, "merged away")
        try catalog.requireNoDependents(parent.path, "merged into", except: child.path)
        try await vms.requireNotInUseByRunningVM(request.path)
        try await vms.requireNotInUseByRunningVM(parent.path)
        if let owner = await vms.attachment(of: request.path) {
            throw ViridianError(.conflict, "\(request.path) is attached to VM '\(owner)'; detach it before merging")
        }
        if let user = await vms.attachment(of: parent.path) {
            throw ViridianError(.conflict, "\(parent.path) is attached to VM '\(user)'; detach it before merging into it")
        }
        return jobs.start(kind: "vhd.merge", vm: nil, description: "Merging \(request.path)") { progress in
            try await tool.merge(child: child, into: parent) { progress.report($0) }
            try catalog.forget(child.path)
            events.record(.information, .storage, vm: nil, "\(request.path) was merged into \(parent.path)")
            return parent.path
        }
    }
}
