import APITypes
import Foundation
import HostServices
import Inventory
import Storage

extension CheckpointService {
    /// Writes a self-contained copy of the VM at a checkpoint (Export-VMSnapshot) into the new folder
    /// `destinationPath/<VM name>`, as a job: each disk flattened into one file of its own format,
    /// the memory of a standard checkpoint, the UEFI variables, and `virtual-machine.json` last.
    /// `viridian vm import` brings it back.
    package func export(_ name: String, checkpoint: String, _ request: ExportCheckpointRequest) async throws -> JobInfo {
        let vm = try await host.checkCheckpointable(name, busyAllowed: false)
        try vm.configuration.requireNotShielded(vm: vm.name, "exporting a checkpoint")
        let target = try find(checkpoint, of: vm)
        let directory = request.destinationPath
        var isDirectory: ObjCBool = false
        guard directory.hasPrefix("/"), FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ViridianError(.invalidArgument, "the export path must be an existing folder given absolutely, not '\(Quote.prefix(directory))'")
        }
        let folder = "\(directory)/\(vm.name)"
        guard !FileManager.default.fileExists(atPath: folder) else {
            throw ViridianError(.alreadyExists, "\(folder) exists already; Viridian never overwrites an export")
        }
        return operationJob(vm.name, .exportingCheckpoint, jobKind: "vm.checkpoint-export",
                            description: "Exporting checkpoint '\(target.name)' of \(vm.name) to \(folder)",
                            failure: "exporting checkpoint '\(target.name)'") { subject, progress in
            try await write(target, of: subject, into: folder, progress: progress)
        }
    }

    private func write(_ checkpoint: CheckpointRecord, of subject: CheckpointSubject, into folder: String, progress: JobProgress) async throws -> String {
        let vm = subject.record
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        } catch {
            throw ViridianError(.alreadyExists, "cannot make \(folder): \(error.localizedDescription)")
        }
        do {
            var configuration = checkpoint.configuration
            var formats: [String: VHDFormat] = [:]
            let disks = configuration.drives.indices.filter { configuration.drives[$0].kind == .hardDisk && configuration.drives[$0].path != nil }
            for (number, index) in disks.enumerated() {
                guard let path = configuration.drives[index].path else { continue }
                let chain = try catalog.recordedChain(path)
                let format = chain.first { !$0.path.hasPrefix(subject.folder + "/") }?.format ?? .qcow2
                let file = "disk\(index).\(format == .raw ? "img" : format.rawValue)"
                try await catalog.tool.convert(chain: chain, destinationPath: "\(folder)/\(file)", format: format, type: .dynamic) { percent in
                    progress.report((number * 100 + percent) * 90 / (100 * max(disks.count, 1)), "copying \(file)")
                }
                configuration.drives[index].path = file
                formats[file] = format
            }
            if let memory = checkpoint.memoryFile {
                progress.report(92, "copying the memory state")
                try FileManager.default.copyItem(atPath: memory, toPath: "\(folder)/saved-state.bin")
            }
            if let nvram = checkpoint.nvramFile { try FileManager.default.copyItem(atPath: nvram, toPath: "\(folder)/nvram.fd") }
            if let tpmState = checkpoint.tpmStateFile { try FileManager.default.copyItem(atPath: tpmState, toPath: "\(folder)/\(ExportedVM.tpmStateFile)") }
            let exported = ExportedVM(name: vm.name, notes: vm.notes, configuration: configuration, diskFormats: formats,
                                      savedState: checkpoint.memoryFile == nil ? nil : "saved-state.bin",
                                      nvram: checkpoint.nvramFile == nil ? nil : "nvram.fd",
                                      tpmState: checkpoint.tpmStateFile == nil ? nil : ExportedVM.tpmStateFile, checkpoint: checkpoint.name)
            let description = try WireJSON.encoder().encode(exported)
            try await DiskPath.writeAtomically(to: "\(folder)/\(ExportedVM.fileName)") { partial in
                try description.write(to: URL(fileURLWithPath: partial))
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        events.record(.information, .checkpoint, vm: vm.name, "VM '\(vm.name)': checkpoint '\(checkpoint.name)' exported to \(folder)")
        return "exported checkpoint '\(checkpoint.name)' to \(folder) (bring it back with: viridian vm import \(folder))"
    }
}
