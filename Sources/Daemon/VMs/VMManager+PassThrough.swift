import APITypes
import Foundation
import Storage

/// Pass-through disks (Hyper-V's physical hard disks): a host block device a VM takes whole.
extension VMManager {
    /// Refuses the host block device at `path` unless it has a medium, the host does not use it
    /// (mounted, swap, device mapper) and no other VM has it, by whatever path.
    func requirePassThroughFree(_ path: String, for vm: ManagedVM) throws {
        let device = try PassThroughDevice(path)
        try device.requireUnusedByHost()
        for other in vms.values where other.record.id != vm.record.id {
            for candidate in other.record.configuration.passThroughDevices {
                // A device that is gone from this host cannot be the one being attached.
                guard let taken = try? PassThroughDevice(candidate), taken.number == device.number else { continue }
                throw ViridianError(.conflict, "\(path) is the pass-through disk \(candidate) of VM '\(other.record.name)'")
            }
        }
    }

    /// Before a worker starts: every pass-through disk of `vm` is still a free block device.
    func requirePassThroughDisksFree(_ vm: ManagedVM) throws {
        for path in vm.record.configuration.passThroughDevices {
            do {
                try requirePassThroughFree(path, for: vm)
            } catch {
                let reason = ViridianError.wrapping(error)
                throw ViridianError(reason.code, "VM '\(vm.record.name)' cannot start: its pass-through disk: \(reason.message)")
            }
        }
    }

    /// Checks a pass-through attach request: raw only (a host device is never probed), no checkpoints
    /// (applying one would not take the device back), the device free.
    func requirePassThroughAttachable(_ vm: ManagedVM, _ request: AddDiskRequest) throws {
        if let format = request.format, format != .raw {
            throw ViridianError(.invalidArgument, "a pass-through disk is the host device itself, always raw; it cannot be \(format.rawValue)")
        }
        try requireNoCheckpoints(vm, "attaching a pass-through disk")
        try requirePassThroughFree(request.path, for: vm)
    }
}
