import APITypes
import HostServices
import HTTPTypes
import HummingbirdCore
import HummingbirdWebSocket

/// Which requests become WebSocket sessions, on either listener: a VM's serial console, its
/// graphical console (VNC, binary frames as noVNC expects) and `exec`. `user` is who the web
/// listener signed in (nil on the socket); what the session causes is recorded as theirs.
enum WebSocketSessions {
    static func upgrade(_ request: HTTPRequest, host: ViridianHost, consoles: ConsoleBridge, user: String?)
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let parts = request.path?.split(separator: "?").first?.split(separator: "/") ?? []
        if parts == ["v1", "events", "socket"] { return eventFeed(host: host) }
        guard parts.count == 4, parts[0] == "v1", parts[1] == "vms" else { return .dontUpgrade }
        let name = String(parts[2]).removingPercentEncoding ?? String(parts[2])
        switch parts[3] {
        case "exec":
            return .upgrade([:]) { inbound, outbound, _ in
                try await RequestUser.$name.withValue(user) {
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
        case "console", "vnc":
            let kind: ConsoleBridge.Kind = parts[3] == "vnc" ? .graphical : .serial
            return .upgrade([:]) { inbound, outbound, _ in
                try await RequestUser.$name.withValue(user) {
                    let socket: String
                    do {
                        socket = kind == .serial ? try await host.vms.consoleSocket(name) : try await host.vms.vncSocket(name)
                    } catch {
                        let reason = ViridianError.wrapping(error).message
                        try await outbound.close(.unexpectedServerError, reason: String(reason.utf8.prefix(120)) ?? "VM '\(name)' is not running")
                        return
                    }
                    if let user {
                        host.events.record(.information, .vmms, vm: name, "\(user) opened the \(kind.rawValue) of VM '\(name)' in the web console")
                    }
                    try await consoles.run(vm: name, kind: kind, socketPath: socket, inbound: inbound, outbound: outbound)
                }
            }
        default:
            return .dontUpgrade
        }
    }

    /// The event stream as a WebSocket (one `StreamItem` as JSON per text message): what the web
    /// console follows, since a browser holds at most six HTTP/1.1 connections to a host and a
    /// streamed response in each open page would use them up; WebSockets are not counted.
    private static func eventFeed(host: ViridianHost) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        .upgrade([:]) { inbound, outbound, _ in
            let feed = host.events.feed.subscribe()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in inbound {}
                }
                group.addTask {
                    for await item in feed {
                        let data = try WireJSON.encoder().encode(item)
                        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
                    }
                    try await outbound.close(.goingAway, reason: "viridiand is stopping")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
