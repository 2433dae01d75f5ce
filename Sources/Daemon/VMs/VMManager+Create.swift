import APITypes
import Engine
import Foundation
import Inventory
import Storage

extension VMManager {
    /// Creates a VM (New-VM). From an image, its root disk is a new differencing child of the
    /// image's disk; nothing is left behind when any step fails.
    public func create(_ request: CreateVMRequest) async throws -> VMInfo {
        try VMName.validate(request.name)
        if vms.values.contains(where: { $0.record.name.lowercased() == request.name.lowercased() }) {
            throw ViridianError(.alreadyExists, "a VM named '\(request.name)' already exists")
        }
        if let notes = request.notes { try FreeText.validate(notes, what: "notes") }
        let image = try request.image.map { name in
            guard let image = try inventory.image(named: name) else {
                throw ViridianError(.notFound, "no image named '\(name)'; build the test guest with: viridian image test-guest")
            }
            return image
        }
        let id = UUID().uuidString.lowercased()
        var request = request
        request.switchName = try request.switchName.map(switches.canonicalName)
        var configuration = try VMBlueprint(request: request, image: image, existingMACs: allMACs()).configuration()
        configuration.machineType = launcher.qemu.machineTypes.newest(for: configuration.generation)
        try configuration.validate(host: host)
        try validateFiles(configuration)
        for drive in configuration.drives where drive.kind == .hardDisk {
            if let path = drive.path { try await recordAttached(path, declared: nil) }
        }

        var created: [String] = []
        do {
            if let image {
                let diskDirectory = "\(stateDirectory)/disks"
                try FileManager.default.createDirectory(atPath: diskDirectory, withIntermediateDirectories: true)
                let root = "\(diskDirectory)/\(request.name)-\(id.prefix(8)).qcow2"
                let parent = try await catalog.identify(image.disk, remember: true)
                try await catalog.tool.createDifferencing(path: root, parent: parent)
                created.append(root)
                try catalog.recordCreated(DiskImage(path: root, format: .qcow2, parentPath: parent.path), owner: id)
                configuration.drives.insert(VMBlueprint.rootDrive(path: root, generation: configuration.generation), at: 0)
                try configuration.validate(host: host)
            }
            let paths = WorkerPaths(stateDirectory: stateDirectory, vmID: id)
            try FileManager.default.createDirectory(atPath: paths.vmDirectory, withIntermediateDirectories: true)
            created.append(paths.vmDirectory)
            if configuration.generation == .two {
                let firmware = try Firmware.uefi(secureBoot: configuration.secureBoot)
                try FileManager.default.copyItem(atPath: firmware.variablesTemplate, toPath: paths.nvram)
            }
            let record = VMRecord(id: id, name: request.name, state: .off, configuration: configuration,
                                  notes: request.notes ?? "", image: request.image, createdAt: Date(), startedAt: nil)
            try inventory.insert(record)
            try claimNew(id)
            vms[id] = ManagedVM(record: record, integration: IntegrationRecord.empty(vmID: id))
            events.record(.information, .vmms, vm: record.name,
                          "VM '\(record.name)' was created (Generation \(configuration.generation.rawValue), \(configuration.memoryMiB) MiB, \(configuration.processorCount) processor\(configuration.processorCount == 1 ? "" : "s"))")
            return vms[id]!.info
        } catch {
            for path in created.reversed() {
                try? FileManager.default.removeItem(atPath: path)
                try? catalog.forget(path)
            }
            throw error
        }
    }

    /// Changes a VM's settings (Set-VM): hardware only while it is Off; notes and the automatic
    /// stop and start actions in any state.
    public func set(_ name: String, _ request: SetVMRequest) throws -> VMInfo {
        var vm = try lookup(name)
        try requireIdle(vm)
        let changesHardware = request.processorCount != nil || request.memoryMiB != nil || request.bootOrder != nil
            || request.machineType != nil || request.append != nil || request.tpm != nil || request.allowConsole != nil
            || request.video != nil
        if changesHardware, vm.record.state != .off {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); processors, memory, boot order, machine type, the TPM, console access, the video adapter and the kernel command line change only while it is Off (notes, automatic actions and the checkpoint type change at any time)")
        }
        var configuration = vm.record.configuration
        if let cpus = request.processorCount { configuration.processorCount = cpus }
        if let memory = request.memoryMiB { configuration.memoryMiB = memory }
        if let order = request.bootOrder { configuration.bootOrder = order }
        if let machineType = request.machineType {
            configuration.machineType = try chooseMachineType(machineType, generation: configuration.generation)
        }
        if let append = request.append {
            guard configuration.kernelBoot != nil else {
                throw ViridianError(.invalidArgument, "VM '\(vm.record.name)' does not boot a kernel directly; it has no command line")
            }
            configuration.kernelBoot?.append = append
        }
        if let action = request.automaticStopAction { configuration.automaticActions.stopAction = action }
        if let action = request.automaticStartAction { configuration.automaticActions.startAction = action }
        if let delay = request.automaticStartDelaySeconds {
            guard (0...AutomaticActions.maxStartDelaySeconds).contains(delay) else {
                throw ViridianError(.invalidArgument, "the automatic start delay must be 0 to \(AutomaticActions.maxStartDelaySeconds) seconds, not \(delay)")
            }
            configuration.automaticActions.startDelaySeconds = delay
        }
        if let type = request.checkpointType { configuration.checkpointType = type }
        if let tpm = request.tpm {
            if tpm { _ = try SoftwareTPM.locate() }
            configuration.tpm = tpm
        }
        if let video = request.video { configuration.video = video }
        if let allowConsole = request.allowConsole {
            guard configuration.shielded else {
                throw ViridianError(.invalidArgument, "VM '\(vm.record.name)' is not shielded; its console is always there (--allow-console is for shielded VMs)")
            }
            configuration.allowConsole = allowConsole
        }
        try configuration.validate(host: host)
        if let notes = request.notes {
            try FreeText.validate(notes, what: "notes")
            vm.record.notes = notes
        }
        vm.record.configuration = configuration
        try inventory.update(vm.record)
        vms[vm.record.id] = vm
        return vm.info
    }

    /// Deletes a VM that is Off or Saved (Remove-VM). Its disks stay unless `deleteDisks` (the
    /// disks Viridian created for it) or `deleteAttachedDisks` (also recorded disks only attached).
    public func remove(_ name: String, deleteDisks: Bool, deleteAttachedDisks: Bool = false) throws {
        let vm = try lookup(name)
        try requireIdle(vm)
        guard vm.record.state == .off || vm.record.state == .saved else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); stop it before removing it")
        }
        let deleting = deleteDisks || deleteAttachedDisks
        var disks = vm.record.configuration.drives.filter { $0.kind == .hardDisk && !$0.passThrough }.compactMap(\.path)
        if !deleting { try requireNoCheckpoints(vm, "removing it without --delete-disks") }
        if try !inventory.checkpoints(vmID: vm.record.id).isEmpty {
            let folder = paths(vm).checkpointDirectory + "/"
            disks = disks.filter { !$0.hasPrefix(folder) } + (try forgetCheckpointOverlays(of: vm))
        }
        try inventory.deleteVM(id: vm.record.id)
        vms[vm.record.id] = nil
        guestEvents.forget(vm.record.id)
        let paths = paths(vm)
        try? FileManager.default.removeItem(atPath: paths.vmDirectory)
        WorkerLauncher.cleanUp(paths)
        ShieldingKey.remove(paths)
        let deleted = deleting ? deleteDiskFiles(of: vm, paths: disks, includingAttached: deleteAttachedDisks) : []
        let disksNote = deleting ? " and its \(deleted.count) disk(s)" : ""
        events.record(.information, .vmms, vm: vm.record.name, "VM '\(vm.record.name)'\(disksNote) was removed")
    }

    func allMACs() -> Set<String> {
        Set(vms.values.flatMap { $0.record.configuration.networkAdapters.map { $0.macAddress.lowercased() } })
    }

    /// Kernel, initrd, disk and ISO files must exist (but `arriving`, files still to come), and no disk may belong to another VM.
    func validateFiles(_ configuration: VMConfiguration, excluding: String? = nil, arriving: Set<String> = []) throws {
        if let boot = configuration.kernelBoot {
            for file in [boot.kernel] + [boot.initrd].compactMap({ $0 }) {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw ViridianError(.notFound, "the kernel or initrd file \(file) does not exist")
                }
            }
        }
        for drive in configuration.drives {
            guard let path = drive.path else { continue }
            if !arriving.contains(path) { try DiskPath.requireExisting(path) }
            if drive.kind == .hardDisk, let owner = vmUsing(path: path, excluding: excluding) {
                throw ViridianError(.conflict, "\(path) is already attached to VM '\(owner.record.name)'")
            }
        }
    }
}
