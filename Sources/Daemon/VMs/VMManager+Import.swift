import APITypes
import Engine
import Foundation
import Inventory
import Storage

extension VMManager {
    /// Registers the VM an export folder holds (Import-VM), its disks where they are, as a new VM:
    /// a new id and new dynamic MAC addresses, Saved when the export kept its memory, Off otherwise.
    /// The folder's description is input like any other: every file it names must be a plain name of
    /// a regular file in the folder, each disk is probed once with the format the export recorded,
    /// and a disk naming a parent is refused (an export's disks are flat).
    public func importVM(_ request: ImportVMRequest) async throws -> VMInfo {
        let folder = request.path
        guard folder.hasPrefix("/") else { throw ViridianError(.invalidArgument, "the import path must be absolute: '\(Quote.prefix(folder))'") }
        let description = "\(folder)/\(ExportedVM.fileName)"
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: description),
              (attributes[.size] as? Int ?? .max) <= 1 << 20, let data = FileManager.default.contents(atPath: description) else {
            throw ViridianError(.notFound, "\(folder) holds no finished export (no \(ExportedVM.fileName) of at most 1 MiB)")
        }
        let exported: ExportedVM
        do {
            exported = try WireJSON.decoder().decode(ExportedVM.self, from: data)
        } catch {
            throw ViridianError(.invalidArgument, "\(description) cannot be read as an export", cause: error)
        }
        guard exported.format == ExportedVM.currentFormat else {
            throw ViridianError(.invalidArgument, "\(description) is export format \(exported.format); this Viridian reads format \(ExportedVM.currentFormat)")
        }
        let name = request.name ?? exported.name
        try VMName.validate(name)
        if vms.values.contains(where: { $0.record.name.lowercased() == name.lowercased() }) {
            throw ViridianError(.alreadyExists, "a VM named '\(name)' already exists (import it with another --name)")
        }
        try FreeText.validate(exported.notes, what: "notes")
        if let refusal = machineTypeRefusal(exported.configuration) { throw ViridianError(.conflict, "VM '\(name)' cannot run here: \(refusal)") }
        var configuration = exported.configuration
        for index in configuration.networkAdapters.indices where !configuration.networkAdapters[index].staticMAC {
            configuration.networkAdapters[index].macAddress = MACPool.next(avoiding: allMACs().union(configuration.networkAdapters.map(\.macAddress)))
        }
        for adapter in configuration.networkAdapters { _ = try switches.canonicalName(adapter.switchName) }
        for index in configuration.drives.indices {
            guard let file = configuration.drives[index].path else { continue }
            if configuration.drives[index].kind == .dvd {
                if !FileManager.default.fileExists(atPath: file) { configuration.drives[index].path = nil }
                continue
            }
            configuration.drives[index].path = try Self.fileInExport(file, folder)
        }
        try configuration.validate(host: host)
        try validateFiles(configuration)
        for drive in configuration.drives where drive.kind == .hardDisk {
            guard let path = drive.path else { continue }
            let file = (path as NSString).lastPathComponent
            guard let format = exported.diskFormats[file] else { throw ViridianError(.invalidArgument, "the export names no format for \(file)") }
            let image = try await catalog.identify(path, declared: format, remember: true)
            guard image.parentPath == nil else { throw ViridianError(.invalidArgument, "\(path) names a parent; an exported disk is flat") }
            try catalog.requireNoDependents(path, "attached writable")
        }
        let id = UUID().uuidString.lowercased()
        let paths = WorkerPaths(stateDirectory: stateDirectory, vmID: id)
        do {
            try FileManager.default.createDirectory(atPath: paths.vmDirectory, withIntermediateDirectories: true)
            if let nvram = exported.nvram {
                try FileManager.default.copyItem(atPath: try Self.fileInExport(nvram, folder), toPath: paths.nvram)
            } else if configuration.generation == .two {
                try FileManager.default.copyItem(atPath: try Firmware.uefi(secureBoot: configuration.secureBoot).variablesTemplate, toPath: paths.nvram)
            }
            if let tpmState = exported.tpmState { try SoftwareTPM.installState(copying: try Self.fileInExport(tpmState, folder), paths) }
            if let saved = exported.savedState {
                try FileManager.default.copyItem(atPath: try Self.fileInExport(saved, folder), toPath: paths.savedState)
            }
            let record = VMRecord(id: id, name: name, state: exported.savedState == nil ? .off : .saved, configuration: configuration,
                                  notes: exported.notes, image: nil, createdAt: Date(), startedAt: nil)
            try inventory.insert(record)
            try claimNew(id)
            vms[id] = ManagedVM(record: record, integration: IntegrationRecord.empty(vmID: id))
        } catch {
            try? FileManager.default.removeItem(atPath: paths.vmDirectory)
            throw error
        }
        events.record(.information, .vmms, vm: name, "VM '\(name)' was imported from \(folder) (checkpoint '\(exported.checkpoint)' of '\(exported.name)')")
        return vms[id]!.info
    }

    /// `file` in the export folder: a plain name of a regular file there.
    private static func fileInExport(_ file: String, _ folder: String) throws -> String {
        guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
            throw ViridianError(.invalidArgument, "the export names '\(Quote.prefix(file))', which is not a file name in its folder")
        }
        let path = "\(folder)/\(file)"
        try DiskPath.requireRegularFile(path)
        return path
    }
}
