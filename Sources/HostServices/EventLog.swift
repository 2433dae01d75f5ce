import APITypes
import Inventory
import Logging

/// The persistent, queryable event log (Hyper-V's VMMS / Worker channels). Every entry also goes
/// to the daemon's log.
package struct EventLog: Sendable {
    package let inventory: Inventory
    package let logger: Logger
    /// Clients following the event stream.
    package let feed: LiveFeed

    package init(inventory: Inventory, logger: Logger, feed: LiveFeed) {
        self.inventory = inventory
        self.logger = logger
        self.feed = feed
    }

    package func record(_ level: EventLevel, _ source: EventSource, vm: String?, _ message: String) {
        let user = RequestUser.name
        var metadata: Logger.Metadata = ["source": "\(source.rawValue)"]
        if let vm { metadata["vm"] = "\(vm)" }
        if let user { metadata["user"] = "\(user)" }
        switch level {
        case .information: logger.info("\(message)", metadata: metadata)
        case .warning: logger.warning("\(message)", metadata: metadata)
        case .error: logger.error("\(message)", metadata: metadata)
        }
        do {
            feed.publish(StreamItem(event: try inventory.appendEvent(level: level, source: source, vm: vm, message: message, user: user)))
        } catch {
            logger.error("cannot store event", metadata: ["error": "\(error)"])
        }
    }
}
