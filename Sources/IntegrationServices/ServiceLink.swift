import AgentProtocol
import Foundation
import Logging
import Synchronization

/// Keeps the host connected to one service port for as long as the worker runs: connects,
/// serves, and after a disconnect or a guest's protocol violation reconnects with a back-off.
final class ServiceLink: Sendable {
    /// Wait after a protocol violation before listening to the guest again.
    static let violationBackoff: Duration = .seconds(5)

    let service: IntegrationService
    private let socketPath: String
    private let hostRelease: String
    private let logger: Logger
    private let current = Mutex<AgentConnection?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(service: IntegrationService, socketPath: String, hostRelease: String, logger: Logger) {
        self.service = service
        self.socketPath = socketPath
        self.hostRelease = hostRelease
        self.logger = logger
    }

    /// The connection, when one is up.
    var connection: AgentConnection? { current.withLock { $0 } }

    /// Starts the connect–serve loop. `events` hears about negotiation, messages and violations.
    func start(events: @escaping @Sendable (ServiceLinkEvent) -> Void) {
        let loop = Task { [self] in
            while !Task.isCancelled {
                guard FileManager.default.fileExists(atPath: socketPath),
                      let connection = try? await AgentConnection.connect(socketPath: socketPath, service: service,
                                                                          hostRelease: hostRelease, logger: logger)
                else {
                    try? await Task.sleep(for: .milliseconds(500))
                    continue
                }
                current.withLock { $0 = connection }
                // A stop that came while connecting found no connection to close: close it here, or it
                // would hold the port (QEMU serves one client at a time) from the hub that replaces this one.
                if Task.isCancelled {
                    current.withLock { $0 = nil }
                    await connection.discard()
                    break
                }
                var violated = false
                do {
                    try await connection.serve(onNegotiated: { events(.negotiated($0)) },
                                               onMessage: { events(.message($0)) })
                } catch let violation as AgentProtocolError {
                    logger.warning("guest broke the integration protocol",
                                   metadata: ["service": "\(service.rawValue)", "error": "\(violation)"])
                    events(.violation(violation.description))
                    violated = true
                } catch {
                    logger.debug("integration connection ended", metadata: ["service": "\(service.rawValue)", "error": "\(error)"])
                }
                current.withLock { $0 = nil }
                events(.disconnected)
                try? await Task.sleep(for: violated ? Self.violationBackoff : .milliseconds(500))
                if violated {
                    // Drop what the guest still has queued, so the next connection starts in step.
                    _ = await PortDrainer.drain(socketPath: socketPath)
                }
            }
        }
        task.withLock { $0 = loop }
    }

    /// Stops the loop and closes the connection.
    func stop() {
        task.withLock { $0?.cancel() }
        current.withLock { $0?.close() }
    }
}

/// What a service link reports to its hub.
enum ServiceLinkEvent: Sendable {
    case negotiated(Negotiated)
    case message(Frame)
    case violation(String)
    case disconnected
}
