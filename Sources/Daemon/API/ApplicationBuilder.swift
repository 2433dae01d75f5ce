import APITypes
import Foundation
import HostServices
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOPosix

/// Builds the HTTP application viridiand serves on its unix socket; shared by `main` and tests.
public enum ApplicationBuilder {
    /// The API's own event loop: one thread sets up every connection. Child channels spread over
    /// several loops once crashed viridiand at start-up, when a client's socket probe and its first
    /// request arrived together and two loops built the HTTP pipeline's generic types at once (a
    /// Swift runtime metadata race, seen once in the suite). Handlers run as tasks, not on the loop.
    static let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The routes served as WebSocket upgrades (below), which the router does not list.
    static let webSocketRoutes = ["get /v1/vms/{name}/console", "get /v1/vms/{name}/exec"]

    /// Every route of the API; the OpenAPI document is checked against it (`routes`).
    static func router(host: ViridianHost) -> Router<APIRequestContext> {
        router(host: host, vms: host.vms)
    }

    /// The same router with the VM routes served by `vms` (router tests give it a fake).
    static func router(host: ViridianHost, vms: any VMService) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        HostController(host: host).addRoutes(to: router)
        TrustedPeerController(host: host).addRoutes(to: router)
        ImageController(host: host).addRoutes(to: router)
        APIDocumentController().addRoutes(to: router)
        VMController(vms: vms).addRoutes(to: router.group("v1/vms"))
        NetworkAdapterController(vms: vms).addRoutes(to: router)
        VMIntegrationController(host: host).addRoutes(to: router)
        MoveController(host: host).addRoutes(to: router)
        CheckpointController(checkpoints: host.checkpoints).addRoutes(to: router)
        BackupController(backups: host.backups).addRoutes(to: router)
        IntegrationUpdateController(host: host).addRoutes(to: router)
        SwitchController(host: host).addRoutes(to: router)
        JobController(jobs: host.jobs).addRoutes(to: router.group("v1/jobs"))
        EventController(host: host).addRoutes(to: router.group("v1/events"))
        VHDController(vhds: host.vhds).addRoutes(to: router.group("v1/vhds"))
        return router
    }

    /// `method /path/{parameter}` for every route the API answers, as the OpenAPI document writes them.
    static func routes(host: ViridianHost) -> Set<String> {
        let routed = router(host: host).routes.map { route in
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method.rawValue.lowercased()) /" + path.joined(separator: "/")
        }
        return Set(routed + webSocketRoutes)
    }

    public static func build(host: ViridianHost, logger: Logger) -> some ApplicationProtocol {
        let router = router(host: host)
        let consoles = ConsoleBridge()
        let limits = host.configuration.listenerLimits
        let connections = ConnectionLimit(maximum: limits.apiConnections)
        // No automatic ping: a client's pong waits behind the input it is sending (backpressure holds
        // its writes while the guest reads slowly), and a missed pong would close a healthy session.
        // A client that goes away closes its end of the unix socket, which ends the session.
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(additionalChannelHandlers: [RequestHeadSeen()],
                         idleTimeout: .seconds(Int64(limits.idleTimeout.components.seconds))),
            ws: .init(maxFrameSize: SessionBridge.maximumMessage, autoPing: .disabled))
        let server = HTTPServerBuilder { responder in
            GuardedChannel(base: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration) { request, channel, _ in
                FirstRequestDeadline.end(on: channel)
                let decision = try await upgrade(request, host: host, consoles: consoles)
                if case .upgrade = decision { try await HTTPErrorHandling.leaveHTTP(channel) }
                return decision
            }, limit: connections, firstRequestTimeout: limits.idleTimeout)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .unixDomainSocket(path: host.configuration.socketPath), serverName: "viridiand",
                                 backlog: ListenerLimits.backlog),
            onServerRunning: { _ in HostAccess.openSocket(host.configuration.socketPath, logger: logger) },
            eventLoopGroupProvider: .shared(eventLoop),
            logger: logger)
    }

    /// Which requests become WebSocket sessions: a VM's console and `exec`.
    private static func upgrade(_ request: HTTPRequest, host: ViridianHost, consoles: ConsoleBridge) async throws
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let parts = request.path?.split(separator: "/") ?? []
        guard parts.count == 4, parts[0] == "v1", parts[1] == "vms" else { return .dontUpgrade }
        let name = String(parts[2]).removingPercentEncoding ?? String(parts[2])
        if parts[3] == "exec" {
            return .upgrade([:]) { inbound, outbound, _ in
                do {
                    try await SessionBridge().run(hub: { try await host.vms.guestAccessHub(name, "vm exec") },
                                                  inbound: inbound, outbound: outbound)
                } catch {
                    let body = ErrorResponse(ViridianError.wrapping(error)).error
                    let data = try WireJSON.encoder().encode(SessionEnd(exitCode: nil, error: body))
                    try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
        }
        guard parts[3] == "console" else { return .dontUpgrade }
        return .upgrade([:]) { inbound, outbound, _ in
            guard let socket = try? await host.vms.consoleSocket(name) else {
                try await outbound.close(.unexpectedServerError, reason: "VM '\(name)' is not running")
                return
            }
            try await consoles.run(vm: name, socketPath: socket, inbound: inbound, outbound: outbound)
        }
    }
}
