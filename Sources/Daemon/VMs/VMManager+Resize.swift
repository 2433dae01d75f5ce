import APITypes
import Backup
import Foundation
import Storage

/// Growing a disk while its VM runs (Resize-VHD on a SCSI-attached disk): QEMU grows the disk's
/// active node and the guest's virtio-scsi controller tells the guest, which sees the new size
/// without a reboot.
extension VMManager {
    /// Grows `image` live when a Running or Paused VM uses it; false when no VM with a worker does.
    /// - Throws: `invalidState` for an IDE disk (as Hyper-V, it grows only while the VM is Off) or a
    ///   VM with checkpoints; `invalidArgument` for what no resize can do (VHDX, a shrink).
    func resizeInUse(_ image: DiskImage, sizeBytes: UInt64) async throws -> Bool {
        guard let vm = vmUsing(path: image.path), vm.record.state.hasWorker else { return false }
        try await withOperation(.changingDrives, vm) { try await performLiveResize(vm.record.id, image, sizeBytes: sizeBytes) }
        return true
    }

    private func performLiveResize(_ id: String, _ image: DiskImage, sizeBytes: UInt64) async throws {
        guard let vm = vms[id], [.running, .paused].contains(vm.record.state), let client = vm.worker?.client else {
            throw ViridianError(.invalidState, "the VM using \(image.path) is no longer running; resize it again")
        }
        guard let index = vm.record.configuration.drives.firstIndex(where: { $0.kind == .hardDisk && $0.path == image.path }) else {
            throw ViridianError(.notFound, "VM '\(vm.record.name)' has no hard disk \(image.path)")
        }
        let drive = vm.record.configuration.drives[index]
        guard drive.controllerType == .scsi else {
            throw ViridianError(.invalidState, "\(image.path) is on an IDE controller of VM '\(vm.record.name)' (\(drive.locationName)); "
                                + "an IDE disk grows only while the VM is Off, as in Hyper-V (SCSI disks grow while it runs)")
        }
        try requireNoCheckpoints(vm, "resizing a disk")
        try await catalog.tool.checkResize(image, sizeBytes: sizeBytes)
        try await client.blockResize(nodeName: try await client.rootNode(ofDevice: "disk\(index)"), sizeBytes: sizeBytes)
        let disk = TrackedDisk(index: index, chain: [image], checkpointFolder: paths(vm).checkpointDirectory, sizeBytes: Int64(sizeBytes))
        await changeTracking(vm).diskResized(client, disk: disk, sizeBytes: Int64(sizeBytes))
        events.record(.information, .storage, vm: vm.record.name,
                      "VM '\(vm.record.name)': \(image.path) grew to \(ByteSize.format(sizeBytes)) while the VM ran")
    }
}
