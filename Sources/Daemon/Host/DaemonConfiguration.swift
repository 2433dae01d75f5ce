import APITypes
import Foundation
import GuestImage

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
    /// The guest agent bundle to put in images and setup disks; nil: look in the usual places.
    public var guestAgentDirectory: String?
    /// This host's name among peers (its certificate names it).
    public var hostName: String
    /// Where the migration listener listens; nil: this host accepts no incoming moves.
    public var migrationListen: HostPort?
    /// Timeouts and connection caps of the listeners.
    public var listenerLimits: ListenerLimits

    public init(stateDirectory: String, socketPath: String, cacheDirectory: String, accelerator: Accelerator?,
                guestAgentDirectory: String? = nil, hostName: String, migrationListen: HostPort? = nil,
                listenerLimits: ListenerLimits = ListenerLimits()) {
        self.listenerLimits = listenerLimits
        self.stateDirectory = stateDirectory
        self.socketPath = socketPath
        self.cacheDirectory = cacheDirectory
        self.accelerator = accelerator
        self.guestAgentDirectory = guestAgentDirectory
        self.hostName = hostName
        self.migrationListen = migrationListen
    }

    /// The guest agent bundle, or a `missingDependency` error that says how to build it.
    public func guestAgentBundle() throws -> GuestAgentBundle {
        if let guestAgentDirectory { return try GuestAgentBundle(directory: guestAgentDirectory) }
        return try GuestAgentBundle.locate()
    }
}
