import APITypes
import Backup
import Engine
import Foundation
import QMP
import Storage

/// Drives added to and removed from a running VM (Add-/Remove-VMHardDiskDrive and -VMDvdDrive on a
/// running VM's SCSI controller). As in Hyper-V, IDE has no hot-plug and a SCSI controller is not
/// added while the VM runs, so a drive goes onto a controller the VM has. A drive's position in the
/// configuration names its nodes and device (`DiskChainNodes`); a removed drive leaves a vacated
/// entry, so the others keep their names (and a move's destination builds the same devices) until
/// the VM is next Off.
extension VMManager {
    /// How long QEMU may take to remove a drive's device.
    static let driveUnplugTimeout = Duration.seconds(30)

    /// Hyper-V's reason for refusing an IDE change on a running VM.
    func ideHotPlugRefusal(_ vm: ManagedVM, _ what: String) -> ViridianError {
        ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue), and \(what) on an IDE controller only while it is Off, "
                      + "as in Hyper-V (IDE has no hot-plug); use a SCSI location, or stop the VM first")
    }

    /// Where a drive goes on a running VM: the location asked for, or the first free one on a SCSI
    /// controller the VM has (one of them, when `controllerNumber` is given).
    func hotPlugLocation(_ vm: ManagedVM, kind: DriveKind, path: String?, controllerType: ControllerType?,
                         controllerNumber: Int?, location: Int?) throws -> DriveAttachment {
        let configuration = vm.record.configuration
        if controllerType == .ide || (controllerType == nil && location != nil && configuration.generation == .one) {
            throw ideHotPlugRefusal(vm, kind == .dvd ? "DVD drives change" : "disks are added")
        }
        let controllers = Set(configuration.drives.filter { $0.controllerType == .scsi }.map(\.controllerNumber))
        let addLater = "a SCSI controller is added only while the VM is Off, as in Hyper-V; add the drive then"
        guard !controllers.isEmpty else { throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no SCSI controller, and \(addLater)") }
        if let controllerNumber, !controllers.contains(controllerNumber) {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no SCSI controller \(controllerNumber) "
                                + "(it has \(controllers.sorted().map(String.init).joined(separator: ", "))), and \(addLater)")
        }
        let wanted = controllerNumber.map { [$0] } ?? controllers.sorted()
        let taken = configuration.occupiedLocations
        if let location {
            let drive = DriveAttachment(kind: kind, controllerType: .scsi, controllerNumber: wanted[0],
                                        location: location, path: path)
            guard !taken.contains(drive.locationName) else {
                throw ViridianError(.conflict, "\(drive.locationName) of VM '\(vm.record.name)' is taken")
            }
            return drive
        }
        for controller in wanted {
            for slot in 0..<HyperVLimits.scsiLocations {
                let drive = DriveAttachment(kind: kind, controllerType: .scsi, controllerNumber: controller, location: slot, path: path)
                if !taken.contains(drive.locationName) { return drive }
            }
        }
        throw ViridianError(.invalidArgument, "every location of the SCSI controllers of VM '\(vm.record.name)' is taken")
    }

    /// Opens a disk's nodes (its recorded chain, or its host device) in the worker, parents first,
    /// then adds the SCSI disk device over them; what was added is taken out again on failure.
    func plugDisk(_ chain: DiskChainNodes, at drive: DriveAttachment, index: Int, client: QMPClient) async throws {
        var added: [String] = []
        do {
            for node in chain.nodes {
                try await client.blockdevAdd(["driver": .string(node.protocolDriver), "filename": .string(node.path), "node-name": .string(node.fileNodeName),
                                              "read-only": .bool(node.readOnly)])
                added.append(node.fileNodeName)
                var format: [String: JSONValue] = ["driver": .string(node.format.qemuName), "node-name": .string(node.nodeName),
                                                   "file": .string(node.fileNodeName), "read-only": .bool(node.readOnly)]
                if node.format == .qcow2 { format["backing"] = node.backing.map(JSONValue.string) ?? .null }
                try await client.blockdevAdd(format)
                added.append(node.nodeName)
            }
            try await client.execute("device_add", arguments: scsiDevice("scsi-hd", drive, index: index))
        } catch {
            for name in added.reversed() {
                do { try await client.blockdevDel(nodeName: name) } catch {
                    logger.warning("cannot close a node of a disk that was not added", metadata: ["node": "\(name)", "error": "\(error)"])
                }
            }
            throw ViridianError(.engineFailure, "QEMU could not add \(drive.path ?? "the disk"): \(ViridianError.wrapping(error).message)")
        }
    }

    /// `device_add` arguments of a SCSI disk or DVD drive at `drive`'s location, reading node `drive<index>`.
    func scsiDevice(_ driver: String, _ drive: DriveAttachment, index: Int) -> [String: JSONValue] {
        ["driver": .string(driver), "drive": .string(DiskChainNodes.nodeName(driveIndex: index)),
         "bus": .string("scsi\(drive.controllerNumber).0"), "channel": .int(0), "scsi-id": .int(Int64(drive.location)), "lun": .int(0),
         "id": .string(DiskChainNodes.deviceID(driveIndex: index))]
    }

    /// Removes the device of the drive at `index` and closes the files it read (`files`, top first),
    /// so that they can be attached elsewhere. Throws, with the drive still attached, when QEMU did
    /// not remove the device in time; a file that stays open after the device went is reported.
    func unplugDrive(_ vm: ManagedVM, index: Int, files: [String], client: QMPClient) async throws {
        let device = DiskChainNodes.deviceID(driveIndex: index)
        guard try await client.deleteDevice(device, timeout: Self.driveUnplugTimeout) else {
            throw ViridianError(.timeout, "QEMU did not remove the drive \(vm.record.configuration.drives[index].locationName) of VM "
                                + "'\(vm.record.name)' within \(Self.driveUnplugTimeout); it stays attached")
        }
        do {
            try await LiveMerge(client: client).release(files)
        } catch {
            events.record(.warning, .storage, vm: vm.record.name,
                          "\(files.first ?? "a drive's file") stays open in the worker of VM '\(vm.record.name)' until it ends: "
                          + ViridianError.wrapping(error).message)
        }
    }
}

extension VMManager {
    /// The VM, Running or Paused with a worker; a VM between states is refused until it settles.
    func requireSettled(_ name: String) throws -> ManagedVM {
        let vm = try lookup(name)
        guard vm.worker != nil, [.running, .paused].contains(vm.record.state) else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); try again when it settles")
        }
        return vm
    }

    /// Changes a running VM's DVD medium (`blockdev-change-medium`, or an eject for nil) in its
    /// first DVD drive, or hot-adds a SCSI DVD drive holding `path` when it has none. The medium
    /// taken out is closed, so its file is free.
    func changeMediumLive(_ name: String, path: String?, client: QMPClient) async throws -> VMInfo {
        let vm = try requireSettled(name)
        guard let index = vm.record.configuration.drives.firstIndex(where: { $0.kind == .dvd }) else {
            guard let path else { return vm.info }
            return try await hotAddDVD(vm, client: client, path: path)
        }
        let device = DiskChainNodes.deviceID(driveIndex: index)
        let previous = vm.record.configuration.drives[index].path
        if let path {
            try await client.execute("blockdev-change-medium", arguments: [
                "id": .string(device), "filename": .string(path), "format": .string("raw"), "read-only-mode": .string("read-only"),
            ])
        } else {
            // As a drive's eject button: the tray opens (whether or not the guest locked it), the disc comes out, the tray closes.
            try await client.execute("blockdev-open-tray", arguments: ["id": .string(device), "force": true])
            try await client.execute("blockdev-remove-medium", arguments: ["id": .string(device)])
            try await client.execute("blockdev-close-tray", arguments: ["id": .string(device)])
        }
        if let previous, previous != path {
            do { try await LiveMerge(client: client).release([previous]) } catch {
                logger.warning("the DVD medium taken out stays open", metadata: ["vm": "\(vm.record.name)", "file": "\(previous)", "error": "\(error)"])
            }
        }
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(name)' was removed") }
        current.record.configuration.drives[index].path = path
        vms[vm.record.id] = current
        store(current.record)
        return current.info
    }

    /// Adds a SCSI DVD drive holding `path` to a running Generation 2 VM, on the first free location
    /// of a controller it has (`blockdev-add` of the medium, then `device_add scsi-cd`).
    private func hotAddDVD(_ vm: ManagedVM, client: QMPClient, path: String) async throws -> VMInfo {
        guard vm.record.configuration.generation == .two else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' has no DVD drive, and a Generation 1 VM's DVD drives are on IDE, which "
                                + "has no hot-plug; add one while it is Off: viridian vm dvd set \(vm.record.name) \(path)")
        }
        let drive = try hotPlugLocation(vm, kind: .dvd, path: path, controllerType: .scsi, controllerNumber: nil, location: nil)
        var configuration = vm.record.configuration
        let index = configuration.placeLive(drive)
        let node = DiskChainNodes.nodeName(driveIndex: index)
        try await client.blockdevAdd(["driver": "raw", "node-name": .string(node), "read-only": true,
                                      "file": ["driver": "file", "filename": .string(path), "read-only": true]])
        do {
            try await client.execute("device_add", arguments: scsiDevice("scsi-cd", drive, index: index))
        } catch {
            do { try await client.blockdevDel(nodeName: node) } catch {
                logger.warning("cannot remove the medium of a DVD drive that was not added", metadata: ["vm": "\(vm.record.name)", "error": "\(error)"])
            }
            throw error
        }
        guard var current = vms[vm.record.id] else { throw ViridianError(.notFound, "VM '\(vm.record.name)' was removed") }
        current.record.configuration = configuration
        vms[vm.record.id] = current
        store(current.record)
        events.record(.information, .storage, vm: vm.record.name,
                      "a DVD drive holding \(path) was added to VM '\(vm.record.name)' at \(drive.locationName) while it runs")
        return current.info
    }
}
