import APITypes
import Backup
import Engine
import Foundation
import QMP
import Storage

extension VMManager {
    /// Attaches a hard disk (Add-VMHardDiskDrive): to an Off VM at any location, or live to a
    /// running VM's SCSI controller. Without a location, the first free one is used.
    public func addDisk(_ name: String, _ request: AddDiskRequest) async throws -> VMInfo {
        try await withOperation(.changingDrives, try lookup(name)) { try await performAddDisk(name, request) }
    }

    /// The body of `addDisk`, holding the VM's turn.
    private func performAddDisk(_ name: String, _ request: AddDiskRequest) async throws -> VMInfo {
        try lookup(name).record.configuration.requireNotShielded(vm: name, "adding a disk")
        if let worker = try lookup(name).worker { return try await hotAddDisk(name, request, client: worker.client) }
        var vm = try requireOff(name, "disks can be added")
        let passThrough = request.passThrough == true
        if passThrough {
            try requirePassThroughAttachable(vm, request)
        } else {
            try DiskPath.requireExisting(request.path)
            try await recordAttached(request.path, declared: request.format)
        }
        var configuration = vm.record.configuration
        var drive: DriveAttachment
        if let location = request.location {
            drive = DriveAttachment(kind: .hardDisk, controllerType: request.controllerType ?? defaultController(configuration),
                                    controllerNumber: request.controllerNumber ?? 0, location: location, path: request.path)
        } else if let free = DriveLocations.firstFree(kind: .hardDisk, generation: configuration.generation,
                                                      taken: configuration.occupiedLocations, path: request.path,
                                                      controllerType: request.controllerType, controllerNumber: request.controllerNumber) {
            drive = free
        } else {
            let scope = request.controllerType.map { "\($0.rawValue) controller\(request.controllerNumber.map { " \($0)" } ?? "")" } ?? "controller"
            throw ViridianError(.invalidArgument, "every \(scope) location of VM '\(vm.record.name)' is taken")
        }
        drive.passThrough = passThrough
        configuration.drives.append(drive)
        try configuration.validate(host: host)
        try validateFiles(configuration, excluding: vm.record.id)
        vm.record.configuration = configuration
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        events.record(.information, .storage, vm: vm.record.name,
                      "\(request.path) was attached to VM '\(vm.record.name)' at \(drive.locationName)\(passThrough ? " as a pass-through disk" : "")")
        return vm.info
    }

    /// Adds a disk to a Running or Paused VM's SCSI controller: its recorded chain opened in the
    /// worker, the device added (the guest sees a new disk), then change tracking set up for it.
    private func hotAddDisk(_ name: String, _ request: AddDiskRequest, client: QMPClient) async throws -> VMInfo {
        let vm = try requireSettled(name)
        let passThrough = request.passThrough == true
        if passThrough { try requirePassThroughAttachable(vm, request) } else { try DiskPath.requireExisting(request.path) }
        var drive = try hotPlugLocation(vm, kind: .hardDisk, path: request.path, controllerType: request.controllerType,
                                        controllerNumber: request.controllerNumber, location: request.location)
        drive.passThrough = passThrough
        if !passThrough { try await recordAttached(request.path, declared: request.format) }
        var configuration = vm.record.configuration
        let index = configuration.placeLive(drive)
        try configuration.validate(host: host)
        try validateFiles(configuration, excluding: vm.record.id)
        let nodes = passThrough ? DiskChainNodes(passThrough: request.path, driveIndex: index)
            : DiskChainNodes(chain: try catalog.recordedChain(request.path), driveIndex: index)
        try await plugDisk(nodes, at: drive, index: index, client: client)
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        current.record.configuration = configuration
        vms[vm.record.id] = current
        store(current.record)
        if !passThrough {
            changeTracking(current).invalidate("\(request.path) was added while the VM ran")
            await changeTracking(current).arm(client, disks: await trackedDisks(current))
        }
        events.record(.information, .storage, vm: vm.record.name, "\(request.path) was attached to VM '\(vm.record.name)' at \(drive.locationName)"
                      + "\(passThrough ? " as a pass-through disk" : "") while it runs")
        return current.info
    }

    /// Detaches a hard disk, by path or location (Remove-VMHardDiskDrive): from an Off VM, or live
    /// from a running VM's SCSI controller. The file stays.
    public func removeDisk(_ name: String, path: String?, controllerType: ControllerType?, controllerNumber: Int?,
                           location: Int?) async throws -> VMInfo {
        try await withOperation(.changingDrives, try lookup(name)) {
            try await performRemoveDisk(name, path: path, controllerType: controllerType, controllerNumber: controllerNumber, location: location)
        }
    }

    /// The body of `removeDisk`, holding the VM's turn.
    private func performRemoveDisk(_ name: String, path: String?, controllerType: ControllerType?, controllerNumber: Int?,
                                   location: Int?) async throws -> VMInfo {
        let found = try lookup(name)
        let index = found.record.configuration.drives.firstIndex { drive in
            guard drive.kind == .hardDisk else { return false }
            if let path { return drive.path == path }
            return drive.controllerType == controllerType && drive.controllerNumber == (controllerNumber ?? 0)
                && drive.location == location
        }
        guard let index else {
            throw ViridianError(.notFound, "VM '\(found.record.name)' has no such hard disk")
        }
        if let worker = found.worker { return try await hotRemoveDisk(name, index: index, client: worker.client) }
        var vm = try requireOff(name, "disks can be removed")
        try requireNoCheckpoints(vm, "detaching a disk")
        let removed = vm.record.configuration.drives.remove(at: index)
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        events.record(.information, .storage, vm: vm.record.name,
                      "\(removed.path ?? "a disk") was detached from VM '\(vm.record.name)' (\(removed.locationName))")
        return vm.info
    }

    /// Removes a disk from a Running or Paused VM's SCSI controller: the device goes (QEMU's
    /// `device_del`; the guest sees the disk vanish), then its files are closed and its entry vacated.
    private func hotRemoveDisk(_ name: String, index: Int, client: QMPClient) async throws -> VMInfo {
        let vm = try requireSettled(name)
        let drive = vm.record.configuration.drives[index]
        guard drive.controllerType == .scsi else { throw ideHotPlugRefusal(vm, "disks are removed") }
        try requireNoCheckpoints(vm, "detaching a disk")
        let chain = try diskChains(vm.record.configuration)[index]
        try await unplugDrive(vm, index: index, files: chain.map { $0.map(\.path) } ?? [drive.path].compactMap { $0 }, client: client)
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        current.record.configuration.vacate(index)
        vms[vm.record.id] = current
        store(current.record)
        if let chain {
            let disk = TrackedDisk(index: index, chain: chain, checkpointFolder: paths(vm).checkpointDirectory, sizeBytes: 0)
            await changeTracking(current).diskRemoved(client, disk: disk)
        }
        events.record(.information, .storage, vm: vm.record.name,
                      "\(drive.path ?? "a disk") was detached from VM '\(vm.record.name)' (\(drive.locationName)) while it runs")
        return current.info
    }

    /// Puts `path` into the VM's first DVD drive (Set-VMDvdDrive), adding a drive when it has none;
    /// `nil` ejects. Off: any drive. Running or Paused: the medium changes at once, as a disc would;
    /// a Generation 2 VM without a drive gets a SCSI DVD drive hot-added (IDE has no hot-plug).
    public func setDVD(_ name: String, path: String?) async throws -> VMInfo {
        try await withOperation(.changingDrives, try lookup(name)) { try await performSetDVD(name, path: path) }
    }

    /// The body of `setDVD`, holding the VM's turn.
    private func performSetDVD(_ name: String, path: String?) async throws -> VMInfo {
        if let path { try DiskPath.requireExisting(path) }
        if let worker = try lookup(name).worker { return try await changeMediumLive(name, path: path, client: worker.client) }
        var vm = try requireOff(name, "the DVD can be changed")
        var configuration = vm.record.configuration
        if let index = configuration.drives.firstIndex(where: { $0.kind == .dvd }) {
            configuration.drives[index].path = path
        } else if let path {
            guard let free = DriveLocations.firstFree(kind: .dvd, generation: configuration.generation,
                                                      taken: configuration.occupiedLocations, path: path)
            else { throw ViridianError(.invalidArgument, "no free location for a DVD drive") }
            configuration.drives.append(free)
        }
        try configuration.validate(host: host)
        vm.record.configuration = configuration
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        return vm.info
    }

    /// Removes the VM's DVD drive at a location, or its first (Remove-VMDvdDrive): from an Off VM,
    /// or live from a running VM's SCSI controller.
    public func removeDVDDrive(_ name: String, controllerType: ControllerType?, controllerNumber: Int?, location: Int?) async throws -> VMInfo {
        try await withOperation(.changingDrives, try lookup(name)) {
            try await performRemoveDVDDrive(name, controllerType: controllerType, controllerNumber: controllerNumber, location: location)
        }
    }

    /// The body of `removeDVDDrive`, holding the VM's turn.
    private func performRemoveDVDDrive(_ name: String, controllerType: ControllerType?, controllerNumber: Int?, location: Int?) async throws -> VMInfo {
        let found = try lookup(name)
        let index = found.record.configuration.drives.firstIndex { drive in
            drive.kind == .dvd && (location == nil || (drive.controllerType == (controllerType ?? drive.controllerType)
                && drive.controllerNumber == (controllerNumber ?? 0) && drive.location == location))
        }
        guard let index else { throw ViridianError(.notFound, "VM '\(found.record.name)' has no such DVD drive") }
        let drive = found.record.configuration.drives[index]
        if let worker = found.worker {
            let vm = try requireSettled(name)
            guard drive.controllerType == .scsi else { throw ideHotPlugRefusal(vm, "DVD drives are removed") }
            try await unplugDrive(vm, index: index, files: drive.path.map { [$0] } ?? [], client: worker.client)
        } else {
            _ = try requireOff(name, "DVD drives can be removed")
        }
        guard var current = vms[found.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        if found.worker == nil {
            current.record.configuration.drives.remove(at: index)
        } else {
            current.record.configuration.vacate(index)
        }
        vms[found.record.id] = current
        store(current.record)
        events.record(.information, .storage, vm: current.record.name,
                      "the DVD drive at \(drive.locationName) was removed from VM '\(current.record.name)'")
        return current.info
    }

    private func requireOff(_ name: String, _ what: String) throws -> ManagedVM {
        let vm = try lookup(name)
        guard vm.record.state == .off else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); \(what) only while it is Off")
        }
        return vm
    }

    private func defaultController(_ configuration: VMConfiguration) -> ControllerType {
        configuration.generation == .one ? .ide : .scsi
    }
}

