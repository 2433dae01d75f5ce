import APITypes
import Engine
import Foundation
import HostServices
import HostTools
import IntegrationServices
import Inventory
import Storage

/// Shielded VMs (Hyper-V's shielded virtual machines): a key per VM in the host's key store
/// (`ShieldingKey`) encrypts its disks (LUKS inside qcow2), its TPM state and its saved memory;
/// its console is never logged, and its console and `vm exec` are refused unless allowed.
extension VMManager {
    /// Shields an Off VM (a job): makes its key, rewrites each disk as a LUKS-encrypted qcow2
    /// (its chain folded in) beside the old one, encrypts its TPM state (turning the TPM on when
    /// it has none), then stores the VM shielded in one step and deletes the plain disks Viridian
    /// created for it (disks the administrator attached stay, and the event log says so). A failure
    /// at any point deletes what was made and leaves the VM as it was.
    public func shield(_ name: String, _ request: ShieldVMRequest) throws -> JobInfo {
        let vm = try lookup(name)
        try requireIdle(vm)
        let configuration = vm.record.configuration
        guard !configuration.shielded else { throw ViridianError(.invalidState, "VM '\(vm.record.name)' is already shielded") }
        guard vm.record.state == .off else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is \(vm.record.state.rawValue); it is shielded while Off"
                                + (vm.record.state == .saved ? " (its saved memory is not encrypted: start it and shut it down, or discard the saved state first)" : ""))
        }
        guard configuration.generation == .two else {
            throw ViridianError(.invalidArgument, "a shielded VM needs Generation 2 (UEFI and a virtual TPM), as in Hyper-V")
        }
        try configuration.requireNoPassThrough(vm: vm.record.name, "shielding")
        try requireNoCheckpoints(vm, "shielding it")
        _ = try SoftwareTPM.locate()
        _ = try HostExecutable.locate("openssl", package: "openssl")
        let chains = try diskChains(configuration)
        let id = vm.record.id
        return try startOperationJob(.shielding, vm, jobKind: "vm.shield", description: "Shielding \(vm.record.name)") { progress in
            try await self.runShield(id: id, chains: chains, allowConsole: request.allowConsole ?? false, progress: progress)
        }
    }

    private func runShield(id: String, chains: [Int: [DiskImage]], allowConsole: Bool, progress: JobProgress) async throws -> String {
        guard let vm = vms[id] else { throw ViridianError(.notFound, "the VM was removed") }
        let paths = paths(vm)
        // A key or an encrypted TPM state of a VM that is not shielded is what an interrupted shield left.
        ShieldingKey.remove(paths)
        SoftwareTPM.discardEncryptedState(paths)
        try ShieldingKey.create(paths)
        var written: [String] = []
        do {
            var configuration = vm.record.configuration
            for (number, index) in chains.keys.sorted().enumerated() {
                guard let chain = chains[index], let top = chain.first else { continue }
                let target = Self.shieldedPath(for: top.path)
                if FileManager.default.fileExists(atPath: target), try catalog.recorded(target) == nil {
                    throw ViridianError(.alreadyExists, "\(target) exists and is no disk Viridian knows (left by an interrupted shield?); "
                                        + "delete it, then shield the VM again")
                }
                try await catalog.tool.encrypted(with: paths.shieldingKey).convert(chain: chain, destinationPath: target,
                                                                                   format: .qcow2, type: .dynamic) { percent in
                    progress.report((number * 100 + percent) * 85 / (100 * max(chains.count, 1)), "encrypting \(top.path)")
                }
                written.append(target)
                try catalog.recordCreated(DiskImage(path: target, format: .qcow2), owner: id)
                configuration.drives[index].path = target
            }
            progress.report(88, "encrypting the TPM's state")
            try await SoftwareTPM.locate().prepareEncryptedState(paths, keyFile: paths.shieldingKey)
            configuration.tpm = true
            configuration.shielded = true
            configuration.allowConsole = allowConsole
            try configuration.validate(host: host)
            guard var current = vms[id] else { throw ViridianError(.notFound, "the VM was removed") }
            current.record.configuration = configuration
            try inventory.update(current.record)
            vms[id] = current
        } catch {
            for file in written {
                try? FileManager.default.removeItem(atPath: file)
                try? catalog.forget(file)
            }
            SoftwareTPM.discardEncryptedState(paths)
            ShieldingKey.remove(paths)
            throw error
        }
        // Stored shielded: the encrypted TPM state replaces the plain one (the next start does it if this fails).
        do { try SoftwareTPM.adoptEncryptedState(paths) } catch {
            events.record(.warning, .vmms, vm: vm.record.name, "the encrypted TPM state of VM '\(vm.record.name)' is put in place at its next start: \(ViridianError.wrapping(error).message)")
        }
        // The plain copies go: the VM's data now lives only in its encrypted disks.
        try? FileManager.default.removeItem(atPath: paths.consoleLog)
        let plain = chains.values.compactMap(\.first?.path)
        let deleted = deleteDiskFiles(of: vm, paths: plain, includingAttached: false)
        let kept = plain.filter { !deleted.contains($0) }
        let keptNote = kept.isEmpty ? "" : "; the plain disk\(kept.count == 1 ? "" : "s") \(kept.joined(separator: ", ")) stayed (Viridian did not create them): delete them once you no longer need them"
        events.record(.information, .vmms, vm: vm.record.name, "VM '\(vm.record.name)' is shielded: \(written.count) disk\(written.count == 1 ? "" : "s") encrypted\(keptNote)")
        return "shielded (\(written.count) disk\(written.count == 1 ? "" : "s") encrypted)\(keptNote)"
    }

    /// `/srv/disks/web1.vhdx` → `/srv/disks/web1-shielded.qcow2`.
    static func shieldedPath(for path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return "\(folder)/\(stem)-shielded.qcow2"
    }

    /// The key file a shielded VM's worker and saved state use; nil for a VM that is not shielded.
    /// Every image of a shielded VM's disks must be qcow2 (what shielding and its checkpoints make,
    /// each with a LUKS layer), so no plain parent is ever opened beneath it.
    /// - Throws: `notFound` when this host's key store has no key for it.
    func shieldingKeyFile(_ record: VMRecord?) throws -> String? {
        guard let record, record.configuration.shielded else { return nil }
        for (index, chain) in try diskChains(record.configuration) where chain.contains(where: { $0.format != .qcow2 }) {
            throw ViridianError(.invalidState, "disk \(index) of shielded VM '\(record.name)' is not made of encrypted qcow2 images")
        }
        return try ShieldingKey.requireFile(WorkerPaths(stateDirectory: stateDirectory, vmID: record.id))
    }

    /// Refuses the guest's console, `exec` and file copy (`what`) for a shielded VM that does not
    /// allow them, as Hyper-V's shielded VMs refuse VMConnect and PowerShell Direct.
    func requireGuestAccess(_ vm: ManagedVM, _ what: String) throws {
        let configuration = vm.record.configuration
        guard !configuration.shielded || configuration.allowConsole else {
            throw ViridianError(.invalidState, "VM '\(vm.record.name)' is shielded: \(what) is refused "
                                + "(allow it while the VM is Off with: viridian vm set \(vm.record.name) --allow-console on)")
        }
    }

    /// The integration hub for a session into the guest (`vm exec`, file copy): refused for a
    /// shielded VM unless it allows them.
    public func guestAccessHub(_ name: String, _ what: String) throws -> IntegrationHub {
        try requireGuestAccess(try lookup(name), what)
        return try integrationHub(name)
    }
}
