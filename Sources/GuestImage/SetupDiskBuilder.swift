import APITypes
import Foundation
import HostTools

/// Builds the integration services setup disk: an ISO with the agent, its init script, systemd
/// unit and `install.sh`. Cached by the bundle's fingerprint, so every VM shares one file.
public struct SetupDiskBuilder: Sendable {
    public let cacheDirectory: String

    public init(cacheDirectory: String) {
        self.cacheDirectory = cacheDirectory
    }

    /// The ISO for `bundle`, built first if needed.
    public func build(_ bundle: GuestAgentBundle, release: String) async throws -> String {
        let genisoimage = try HostExecutable.locate("genisoimage", package: "genisoimage")
        let directory = "\(cacheDirectory)/integration-disk"
        let iso = "\(directory)/viridian-guest-\(release)-\(try bundle.fingerprint()).iso"
        if FileManager.default.fileExists(atPath: iso) { return iso }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lock = try await CacheLock.acquire("\(directory)/.lock")
        defer { lock.release() }
        if FileManager.default.fileExists(atPath: iso) { return iso }
        let partial = "\(iso).partial-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: partial) }
        try await HostCommand.check(genisoimage, ["-quiet", "-V", "VIRIDIAN_IC", "-J", "-R", "-o", partial,
                                                  bundle.directory],
                                    purpose: "building the integration services setup disk")
        try FileManager.default.moveItem(atPath: partial, toPath: iso)
        return iso
    }
}
