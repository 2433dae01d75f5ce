import APITypes
import Crypto
import Foundation

/// The guest agent as the host ships it: the static `viridian-guest` binary with its init script,
/// systemd unit and installer (`scripts/build-guest-agent.sh` makes one in `.build/guest/`).
public struct GuestAgentBundle: Sendable, Equatable {
    public let directory: String

    public static let fileNames = ["viridian-guest", "viridian-guest.init", "viridian-guest.service", "install.sh"]

    public var binary: String { "\(directory)/viridian-guest" }
    public var initScript: String { "\(directory)/viridian-guest.init" }

    /// Uses the bundle in `directory`, checking every file is there.
    public init(directory: String) throws {
        for name in Self.fileNames where !FileManager.default.fileExists(atPath: "\(directory)/\(name)") {
            throw ViridianError(.missingDependency,
                                "the guest agent bundle \(directory) has no \(name); build it with: scripts/build-guest-agent.sh")
        }
        self.directory = directory
    }

    /// Finds the bundle: `VIRIDIAN_GUEST_AGENT_DIR`, then `guest/` beside the build folder of the
    /// running executable's build folder (`.build/guest`), then `/usr/lib/viridian/guest`.
    public static func locate(executable: String = CommandLine.arguments.first ?? "") throws -> GuestAgentBundle {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["VIRIDIAN_GUEST_AGENT_DIR"], !configured.isEmpty {
            candidates.append(configured)
        }
        // .build/debug/viridiand is a link into .build/<triple>/debug: look beside both.
        let executableDirectory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        let buildDirectory = executableDirectory.deletingLastPathComponent()
        candidates.append(buildDirectory.appendingPathComponent("guest").path)
        candidates.append(buildDirectory.deletingLastPathComponent().appendingPathComponent("guest").path)
        // scripts/install.sh: PREFIX/bin/viridiand and PREFIX/lib/viridian/guest.
        candidates.append(executableDirectory.deletingLastPathComponent().appendingPathComponent("lib/viridian/guest").path)
        candidates.append("/usr/lib/viridian/guest")
        for candidate in candidates where FileManager.default.fileExists(atPath: "\(candidate)/viridian-guest") {
            return try GuestAgentBundle(directory: candidate)
        }
        throw ViridianError(.missingDependency,
                            "the guest agent is not built (looked in \(candidates.joined(separator: ", "))); "
                                + "build it with: scripts/build-guest-agent.sh")
    }

    /// A short digest of the bundle's files, which keys caches built from it.
    public func fingerprint() throws -> String {
        var hasher = SHA256()
        for name in Self.fileNames {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else {
                throw ViridianError(.notFound, "\(directory)/\(name) disappeared")
            }
            hasher.update(data: data)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined().prefix(12).description
    }
}
