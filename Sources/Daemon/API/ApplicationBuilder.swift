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
    static let webSocketRoutes = ["get /v1/vms/{name}/console", "get /v1/vms/{name}/exec", "get /v1/vms/{name}/vnc", "get /v1/events/socket"]

    /// Every route of the API; the OpenAPI document is checked against it (`routes`).
    static func router(host: ViridianHost) -> Router<APIRequestContext> {
        router(host: host, vms: host.vms)
    }

    /// The same router with the VM routes served by `vms` (router tests give it a fake).
    static func router(host: ViridianHost, vms: any VMService) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        TokenController(tokens: host.tokens).addRoutes(to: router.group("v1/host/tokens"))
        addFeatureRoutes(to: router, host: host, vms: vms)
        return router
    }

    /// The routes both listeners serve: every feature's (token management stays on the socket).
    static func addFeatureRoutes(to router: Router<APIRequestContext>, host: ViridianHost, vms: any VMService) {
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
    }

    /// `method /path/{parameter}` for every route the API answers, as the OpenAPI document writes them.
    static func routes(host: ViridianHost) -> Set<String> {
        let web = Router(context: APIRequestContext.self)
        WebController(host: host, web: WebServices(host: host)).addRoutes(to: web)
        // The web listener's own API routes; its page and asset files are not API.
        let webRoutes = web.routes.filter { route in ["/v1/", "/web/", "/metrics"].contains { "\(route.path)".hasPrefix($0) } }
        let routed = (router(host: host).routes + webRoutes).map { route in
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
                let decision = WebSocketSessions.upgrade(request, host: host, consoles: consoles, user: nil)
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
}
