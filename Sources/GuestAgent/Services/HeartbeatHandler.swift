import AgentProtocol
import FoundationEssentials
import Synchronization

/// Beats once a second while negotiated, carrying the health set with `viridian-guest health set`.
final class HeartbeatHandler: GuestServiceHandler {
    private let paths: GuestPaths
    private let beating = Mutex(false)

    init(paths: GuestPaths) { self.paths = paths }

    func negotiated(_ welcome: Welcome, on port: GuestPort) {
        try? "\(AgentRelease.current) \(welcome.hostRelease)\n"
            .write(toFile: paths.negotiatedFile, atomically: true, encoding: .utf8)
        let alreadyBeating = beating.withLock { running in
            defer { running = true }
            return running
        }
        guard !alreadyBeating else { return }
        startThread("heartbeat") { [self] in
            while port.welcome != nil {
                let health = JSONFile.read(HealthReport.self, from: paths.healthFile) ?? HealthReport(health: .ok, reason: nil)
                guard port.send(Beat(health: health.health, reason: health.reason)) else { break }
                sleep(seconds: Double(Beat.interval))
            }
            beating.withLock { $0 = false }
        }
    }

    func handle(_ frame: Frame, on port: GuestPort) {}
}

/// The application health a guest administrator sets (`viridian-guest health set degraded "reason"`).
public struct HealthReport: Codable, Sendable {
    public var health: GuestHealth
    public var reason: String?

    public init(health: GuestHealth, reason: String?) {
        self.health = health
        self.reason = reason
    }
}
