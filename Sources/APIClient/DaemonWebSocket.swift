import APITypes
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens a WebSocket to one of a VM's streaming endpoints (`/v1/vms/{name}/console`, `/exec`)
/// over the daemon's unix socket.
enum DaemonWebSocket {
    private enum Upgrade: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    /// Connects and upgrades. - Throws: `unavailable` when the daemon is not there, `notFound` when refused.
    static func open(socketPath: String, vm: String, endpoint: String) async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let upgrade: EventLoopFuture<Upgrade>
        do {
            upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                            maxFrameSize: 1 << 21,
                            upgradePipelineHandler: { channel, _ in
                                channel.eventLoop.makeCompletedFuture {
                                    .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                                }
                            })
                        var headers = HTTPHeaders()
                        headers.add(name: "Host", value: "viridiand")
                        headers.add(name: "Content-Length", value: "0")
                        let path = vm.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? vm
                        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/vms/\(path)/\(endpoint)", headers: headers)
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                            upgradeRequestHead: head, upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .refused } })
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: .init(upgradeConfiguration: configuration))
                    }
                }
        } catch {
            throw ViridianClient.connectionError(error, socketPath: socketPath)
        }
        switch try await upgrade.get() {
        case .websocket(let channel): return channel
        case .refused: throw ViridianError(.notFound, "viridiand refused the \(endpoint) of VM '\(vm)'")
        }
    }
}
