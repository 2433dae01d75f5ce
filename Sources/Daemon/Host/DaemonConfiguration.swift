import APITypes
import Foundation

/// How viridiand is set up: where it keeps state, where it listens, which engine it uses.
public struct DaemonConfiguration: Sendable {
    /// Inventory, VM folders, disks it creates, worker runtime folders.
    public var stateDirectory: String
    /// The unix socket the API listens on.
    public var socketPath: String
    /// Where downloaded packages and built images are cached (shared between state directories).
    public var cacheDirectory: String
    /// Force KVM or TCG instead of probing.
    public var accelerator: Accelerator?

    public init(stateDirectory: String, socketPath: String, cacheDirectory: String, accelerator: Accelerator?) {
        self.stateDirectory = stateDirectory
        self.socketPath = socketPath
        self.cacheDirectory = cacheDirectory
        self.accelerator = accelerator
    }
}
