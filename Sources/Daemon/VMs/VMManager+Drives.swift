import APITypes
import Foundation
import QMP
import Storage

extension VMManager {
    /// Attaches a hard disk to an Off VM (Add-VMHardDiskDrive). Without a location, the first
    /// free one on the generation's controllers is used.
    public func addDisk(_ name: String, _ request: AddDiskRequest) async throws -> VMInfo {
        try await withOperation(.changingDrives, try lookup(name)) { try await performAddDisk(name, request) }
    }

    /// The body of `addDisk`, holding the VM's turn.
    private func performAddDisk(_ name: String, _ request: AddDiskRequest) async throws -> VMInfo {
        var vm = try requireOff(name, "disks can be added")
        try DiskPath.requireExisting(request.path)
        try await recordAttached(request.path, declared: request.format)
        var configuration = vm.record.configuration
        let drive: DriveAttachment
        if let controller = request.controllerType ?? (request.location != nil ? defaultController(configuration) : nil) {
            drive = DriveAttachment(kind: .hardDisk, controllerType: controller, controllerNumber: request.controllerNumber ?? 0,
                                    location: request.location ?? 0, path: request.path)
        } else if let free = DriveLocations.firstFree(kind: .hardDisk, generation: configuration.generation,
                                                      taken: Set(configuration.drives.map(\.locationName)), path: request.path) {
            drive = free
        } else {
            throw ViridianError(.invalidArgument, "every controller location of VM '\(vm.record.name)' is taken")
        }
        configuration.drives.append(drive)
        try configuration.validate(host: host)
        try validateFiles(configuration, excluding: vm.record.id)
        vm.record.configuration = configuration
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        events.record(.information, .storage, vm: vm.record.name, "\(request.path) was attached to VM '\(vm.record.name)' at \(drive.locationName)")
        return vm.info
    }

    /// Detaches the hard disk at a location, or with a path, from an Off VM. The file stays.
    public func removeDisk(_ name: String, path: String?, controllerType: ControllerType?, controllerNumber: Int?,
                           location: Int?) throws -> VMInfo {
        var vm = try requireOff(name, "disks can be removed")
        try requireNoCheckpoints(vm, "detaching a disk")
        let index = vm.record.configuration.drives.firstIndex { drive in
            guard drive.kind == .hardDisk else { return false }
            if let path { return drive.path == path }
            return drive.controllerType == controllerType && drive.controllerNumber == (controllerNumber ?? 0)
                && drive.location == location
        }
        guard let index else {
            throw ViridianError(.notFound, "VM '\(vm.record.name)' has no such hard disk")
        }
        let removed = vm.record.configuration.drives.remove(at: index)
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        events.record(.information, .storage, vm: vm.record.name,
                      "\(removed.path ?? "a disk") was detached from VM '\(vm.record.name)' (\(removed.locationName))")
        return vm.info
    }

    /// Inserts an ISO into the VM's first DVD drive, adding a drive if it has none; `nil` ejects.
    public func setDVD(_ name: String, path: String?) throws -> VMInfo {
        var vm = try requireOff(name, "the DVD can be changed")
        var configuration = vm.record.configuration
        if let path { try DiskPath.requireExisting(path) }
        if let index = configuration.drives.firstIndex(where: { $0.kind == .dvd }) {
            configuration.drives[index].path = path
        } else if let path {
            guard let free = DriveLocations.firstFree(kind: .dvd, generation: configuration.generation,
                                                      taken: Set(configuration.drives.map(\.locationName)), path: path)
            else { throw ViridianError(.invalidArgument, "no free location for a DVD drive") }
            configuration.drives.append(free)
        }
        try configuration.validate(host: host)
        vm.record.configuration = configuration
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        return vm.info
    }

    private func requireOff(_ name: String, _ what: String) throws -> ManagedVM {
        let vm = try lookup(name)
        // `insertMedia` on an Off VM holds the turn already and ends up here through `setDVD`.
        if vm.operation?.kind != .changingDrives { try requireIdle(vm) }
        guard vm.record.state == .off else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); \(what) only while it is Off")
        }
        return vm
    }

    private func defaultController(_ configuration: VMConfiguration) -> ControllerType {
        configuration.generation == .one ? .ide : .scsi
    }
}

extension VMManager {
    /// Puts `path` into the VM's DVD drive. Off: as `setDVD` (adding a drive if there is none).
    /// Running or Paused: swaps the medium in the existing drive, as inserting a disc would; a
    /// Generation 2 VM without one gets a SCSI DVD drive hot-added (IDE has no hot-plug).
    public func insertMedia(_ name: String, path: String) async throws -> VMInfo {
        try await withOperation(.changingDrives, try lookup(name)) { try await performInsertMedia(name, path: path) }
    }

    /// The body of `insertMedia`, holding the VM's turn.
    private func performInsertMedia(_ name: String, path: String) async throws -> VMInfo {
        let vm = try lookup(name)
        guard let worker = vm.worker else { return try setDVD(name, path: path) }
        guard vm.record.state == .running || vm.record.state == .paused else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); try again when it settles")
        }
        try DiskPath.requireExisting(path)
        guard let index = vm.record.configuration.drives.firstIndex(where: { $0.kind == .dvd }) else {
            return try await hotAddDVD(vm, client: worker.client, path: path)
        }
        try await worker.client.execute("blockdev-change-medium", arguments: [
            "id": .string("disk\(index)"), "filename": .string(path), "format": .string("raw"),
            "read-only-mode": .string("read-only"),
        ])
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        current.record.configuration.drives[index].path = path
        vms[vm.record.id] = current
        store(current.record)
        return current.info
    }

    /// Adds a SCSI DVD drive holding `path` to a running Generation 2 VM, on the first free location
    /// of a controller it already has (`blockdev-add` of the medium, then `device_add scsi-cd`).
    private func hotAddDVD(_ vm: ManagedVM, client: QMPClient, path: String) async throws -> VMInfo {
        let configuration = vm.record.configuration
        guard configuration.generation == .two else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no DVD drive, and a Generation 1 VM's IDE drives cannot be added while it runs; "
                                + "add one while it is Off: viridian vm dvd set \(vm.record.name) \(path)")
        }
        let controllers = Set(configuration.drives.filter { $0.controllerType == .scsi }.map(\.controllerNumber))
        let taken = Set(configuration.drives.map(\.locationName))
        guard let drive = DriveLocations.firstFree(kind: .dvd, generation: .two, taken: taken, path: path),
              controllers.contains(drive.controllerNumber) else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no free location on a SCSI controller it has; add a DVD drive while it is Off")
        }
        let index = configuration.drives.count
        try await client.blockdevAdd(["driver": .string("raw"), "node-name": .string("drive\(index)"), "read-only": .bool(true),
                                      "file": .object(["driver": .string("file"), "filename": .string(path),
                                                       "node-name": .string("file\(index)"), "read-only": .bool(true)])])
        do {
            try await client.execute("device_add", arguments: [
                "driver": .string("scsi-cd"), "drive": .string("drive\(index)"), "bus": .string("scsi\(drive.controllerNumber).0"),
                "channel": .int(0), "scsi-id": .int(Int64(drive.location)), "lun": .int(0), "id": .string("disk\(index)"),
            ])
        } catch {
            do { try await client.blockdevDel(nodeName: "drive\(index)") } catch {
                logger.warning("cannot remove the medium of a DVD drive that was not added", metadata: ["vm": "\(vm.record.name)", "error": "\(error)"])
            }
            throw error
        }
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(vm.record.name)' was removed") }
        current.record.configuration.drives.append(drive)
        vms[vm.record.id] = current
        store(current.record)
        events.record(.information, .storage, vm: vm.record.name,
                      "a DVD drive holding \(path) was added to VM '\(vm.record.name)' at \(drive.locationName) while it runs")
        return current.info
    }
}
