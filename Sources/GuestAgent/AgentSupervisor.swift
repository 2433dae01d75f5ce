import AgentProtocol
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's main loop: looks for service ports every second and serves each new one on its
/// own thread, so ports the host adds or removes at runtime (enable / disable) come and go.
public final class AgentSupervisor: Sendable {
    /// Seconds between scans for added or removed ports.
    static let scanInterval = 1.0

    private let paths: GuestPaths
    private let handlers: [IntegrationService: any GuestServiceHandler]
    private let active = Mutex<Set<String>>([])

    public init(paths: GuestPaths) {
        self.paths = paths
        handlers = [
            .heartbeat: HeartbeatHandler(paths: paths),
            .shutdown: ShutdownHandler(),
            .timesync: TimeSyncHandler(),
            .kvp: KVPHandler(paths: paths),
            .vss: VSSHandler(),
            .fcopy: FileCopyHandler(),
            .session: SessionHandler(),
        ]
    }

    /// Runs forever.
    public func run() -> Never {
        try? FileManager.default.createDirectory(atPath: paths.runtime, withIntermediateDirectories: true)
        try? "\(getpid())\n".write(toFile: paths.pidFile, atomically: true, encoding: .utf8)
        AgentLog.write("release \(AgentRelease.current) started")
        let scanner = PortScanner(paths: paths)
        while true {
            for (service, device) in scanner.scan() {
                guard let handler = handlers[service], active.withLock({ $0.insert(device).inserted }) else { continue }
                startThread("port-\(service.rawValue)") { [self] in
                    defer { _ = active.withLock { $0.remove(device) } }
                    guard let port = try? GuestPort(service: service, devicePath: device) else { return }
                    AgentLog.write("serving \(service.rawValue) on \(device)")
                    port.serve(handler)
                    AgentLog.write("\(service.rawValue) port closed")
                }
            }
            sleep(seconds: Self.scanInterval)
        }
    }
}
