import APITypes
import Foundation
import GuestImage
import Inventory
import Logging

/// Images VMs can be created from; today the test guest, built from Debian packages.
struct ImageService: Sendable {
    static let testGuestName = "test-guest"

    let inventory: Inventory
    let jobs: JobManager
    let events: EventLog
    let cacheDirectory: String
    let logger: Logger

    func list() throws -> [ImageInfo] { try inventory.images() }

    /// Builds (or finds in the cache) the test guest and registers it as `test-guest`. A job.
    func buildTestGuest() -> JobInfo {
        jobs.start(kind: "image.build", vm: nil, description: "Building the test guest") { [self] progress in
            let builder = TestGuestBuilder(cacheDirectory: cacheDirectory, logger: logger)
            let files = try await builder.build { percent, message in progress.report(percent, message) }
            let image = ImageInfo(name: Self.testGuestName, kernel: files.kernel, initrd: files.initrd, append: files.append,
                                  disk: files.disk, generation: 1, createdAt: Date())
            try inventory.save(image)
            events.record(.information, .image, vm: nil, "image '\(Self.testGuestName)' is ready (\(files.kernelPackage))")
            return "image '\(Self.testGuestName)' ready: \(files.kernelPackage)"
        }
    }
}
