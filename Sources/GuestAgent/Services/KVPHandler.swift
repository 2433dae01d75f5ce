import AgentProtocol
import FoundationEssentials
import Synchronization

/// Data Exchange: reports intrinsic items and the guest's user pool whenever they change, and keeps
/// the host's pool in a file that `viridian-guest kvp list --pool host` reads.
final class KVPHandler: GuestServiceHandler {
    private let paths: GuestPaths
    private let watching = Mutex(false)
    /// Seconds between checks for changed items.
    private static let checkInterval = 2.0

    init(paths: GuestPaths) { self.paths = paths }

    func negotiated(_ welcome: Welcome, on port: GuestPort) {
        // A (re)connected host knows nothing yet: send everything now.
        port.send(GuestItems(intrinsic: IntrinsicItems.collect(), user: KVPPool.read(paths.guestPoolFile)))
        let alreadyWatching = watching.withLock { running in
            defer { running = true }
            return running
        }
        guard !alreadyWatching else { return }
        startThread("kvp") { [self] in
            var lastSent: GuestItems?
            while port.welcome != nil {
                let items = GuestItems(intrinsic: IntrinsicItems.collect(), user: KVPPool.read(paths.guestPoolFile))
                if items.intrinsic != lastSent?.intrinsic || items.user != lastSent?.user {
                    guard port.send(items) else { break }
                    lastSent = items
                }
                sleep(seconds: Self.checkInterval)
            }
            watching.withLock { $0 = false }
        }
    }

    func handle(_ frame: Frame, on port: GuestPort) {
        guard let message = try? MessageCodec.decode(HostItems.self, from: frame) else { return }
        let valid = message.items.filter { KVPLimits.violation(key: $0.key, value: $0.value) == nil }
        try? KVPPool.write(Dictionary(uniqueKeysWithValues: valid.prefix(KVPLimits.maximumItems).map { ($0.key, $0.value) }),
                           to: paths.hostPoolFile)
    }
}

/// A KVP pool stored as a JSON object in a file.
public enum KVPPool {
    public static func read(_ path: String) -> [String: String] {
        JSONFile.read([String: String].self, from: path) ?? [:]
    }

    public static func write(_ items: [String: String], to path: String) throws {
        try JSONFile.write(items, to: path)
    }
}
