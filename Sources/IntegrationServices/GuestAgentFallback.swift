import AgentProtocol
import APITypes
import Foundation
import Logging
import QMP
import Synchronization

/// The stock `qemu-guest-agent` on port `org.qemu.guest_agent.0`, for guests without Viridian's agent.
/// It gives what that agent can: ping (heartbeat), shutdown, time, freeze / thaw, files, exec.
/// Replies are bounded (the QMP line limit) and every command has a timeout, as with any guest.
public final class GuestAgentFallback: Sendable {
    /// The services the stock agent can stand in for.
    public static let services: Set<IntegrationService> = [.heartbeat, .shutdown, .timesync, .vss, .fcopy, .session]
    public static let agentName = "qemu-guest-agent"
    /// Consecutive unanswered pings after which the agent counts as gone.
    static let pingsMissedBeforeNoContact = 3

    private let socketPath: String
    private let logger: Logger
    private let client = Mutex<QMPClient?>(nil)
    private let version = Mutex<String?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(socketPath: String, logger: Logger) {
        self.socketPath = socketPath
        self.logger = logger
    }

    /// `qemu-guest-agent 7.2.x` while it answers pings, else nil.
    public var agentDescription: String? { version.withLock { $0.map { "\(Self.agentName) \($0)" } } }

    func start() {
        let loop = Task { [self] in
            while !Task.isCancelled {
                guard FileManager.default.fileExists(atPath: socketPath),
                      let connection = try? await QMPClient.connect(socketPath: socketPath, logger: logger, handshake: false)
                else {
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                client.withLock { $0 = connection }
                var missedPings = 0
                while !Task.isCancelled && !connection.isClosed {
                    if version.withLock({ $0 }) == nil {
                        // A fresh sync flushes anything a previous host client left unanswered.
                        let token = Int64.random(in: 1...Int64(Int32.max))
                        if (try? await connection.execute("guest-sync", arguments: ["id": .int(token)], timeout: .seconds(2)))?.intValue == token,
                           let info = try? await connection.execute("guest-info", timeout: .seconds(2)) {
                            version.withLock { $0 = String((info["version"]?.stringValue ?? "unknown").prefix(32)) }
                        }
                    } else if (try? await connection.execute("guest-ping", timeout: .seconds(5))) == nil {
                        // A busy guest (a long file transfer, a loaded host) may miss a ping; three in a row mean it is gone.
                        missedPings += 1
                        if missedPings >= Self.pingsMissedBeforeNoContact { version.withLock { $0 = nil } }
                    } else {
                        missedPings = 0
                    }
                    try? await Task.sleep(for: .seconds(2))
                }
                version.withLock { $0 = nil }
                client.withLock { $0 = nil }
            }
        }
        task.withLock { $0 = loop }
    }

    func stop() {
        task.withLock { $0?.cancel() }
        client.withLock { $0?.close() }
    }

    /// Runs a guest-agent command once the agent answered.
    func execute(_ command: String, _ arguments: [String: JSONValue]? = nil,
                 timeout: Duration = .seconds(30)) async throws -> JSONValue {
        guard version.withLock({ $0 }) != nil, let client = client.withLock({ $0 }) else {
            throw ViridianError(.notResponding, "no integration agent answers in the guest (neither viridian-guest nor qemu-guest-agent)")
        }
        do {
            return try await client.execute(command, arguments: arguments, timeout: timeout)
        } catch let error as QMPError {
            throw ViridianError(.engineFailure, "qemu-guest-agent: \(error)")
        }
    }

    /// Asks qemu-guest-agent to power down or reboot. guest-shutdown does not answer when it works
    /// (the agent is gone before it could), so only an error reply is a failure.
    func requestShutdown(mode: String) async throws {
        guard version.withLock({ $0 }) != nil, let client = client.withLock({ $0 }) else {
            throw ViridianError(.notResponding, "no integration agent answers in the guest (neither viridian-guest nor qemu-guest-agent)")
        }
        do {
            _ = try await client.execute("guest-shutdown", arguments: ["mode": .string(mode)], timeout: .seconds(2))
        } catch QMPError.commandFailed(_, _, let description) {
            throw ViridianError(.invalidState, "qemu-guest-agent refused guest-shutdown: \(description.prefix(200))")
        } catch QMPError.timeout, QMPError.disconnected {
            return
        }
    }

    var isAvailable: Bool { version.withLock { $0 != nil } }
}
