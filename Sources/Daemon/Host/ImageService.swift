import APITypes
import Foundation
import GuestImage
import HostServices
import Inventory
import Logging

/// Images VMs can be created from; today the test guest, built from Debian packages.
struct ImageService: Sendable {
    static let testGuestName = "test-guest"
    static let qemuGuestAgentTestGuestName = "test-guest-qga"

    let inventory: Inventory
    let catalog: DiskCatalog
    let jobs: JobManager
    let events: EventLog
    let configuration: DaemonConfiguration
    let logger: Logger

    func list() throws -> [ImageInfo] { try inventory.images() }

    /// Builds (or finds in the cache) the test guest and registers it: `test-guest` with Viridian's
    /// agent, or `test-guest-qga` with Debian's qemu-guest-agent instead. A job.
    func buildTestGuest(qemuGuestAgent: Bool) throws -> JobInfo {
        let agent: TestGuestAgent = qemuGuestAgent ? .qemuGuestAgent : .viridian(try configuration.guestAgentBundle())
        let name = qemuGuestAgent ? Self.qemuGuestAgentTestGuestName : Self.testGuestName
        return jobs.start(kind: "image.build", vm: nil, description: "Building the test guest '\(name)'") { [self] progress in
            let builder = TestGuestBuilder(cacheDirectory: configuration.cacheDirectory, logger: logger)
            let files = try await builder.build(agent: agent) { percent, message in progress.report(percent, message) }
            let image = ImageInfo(name: name, kernel: files.kernel, initrd: files.initrd, append: files.append,
                                  disk: files.disk, generation: 1, createdAt: Date())
            if try catalog.recorded(files.disk) == nil {
                try catalog.recordCreated(DiskImage(path: files.disk, format: .qcow2))
            }
            try inventory.save(image)
            events.record(.information, .image, vm: nil, "image '\(name)' is ready (\(files.kernelPackage))")
            return "image '\(name)' ready: \(files.kernelPackage)"
        }
    }

    /// Records the disks of images registered before Viridian recorded disks (the builder makes qcow2).
    func adoptLegacyDisks() async {
        do {
            for image in try inventory.images() where try catalog.recorded(image.disk) == nil {
                try await catalog.adoptLegacy(image.disk)
            }
        } catch {
            events.record(.warning, .storage, vm: nil, "cannot record the images' disks: \(ViridianError.wrapping(error).message)")
        }
    }
}
