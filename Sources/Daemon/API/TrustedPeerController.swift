import APITypes
import HostServices
import Hummingbird
import Peers

/// `/v1/host/peers`: the hosts this host trusts (`viridian host peer`).
struct TrustedPeerController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/host/peers") { request, _ in
            JSONResponse(value: await host.peerList(check: try request.queryFlag("check")))
        }
        router.post("v1/host/peers") { request, context in
            let body = try await request.decodeJSON(as: AddPeerRequest.self, context: context)
            return JSONResponse(value: try host.peers.add(body), status: .created)
        }
        router.delete("v1/host/peers/:peer") { _, context in
            try host.peers.remove(try context.pathParameter("peer"))
            return Response(status: .noContent)
        }
    }
}

extension ViridianHost {
    /// The peers; with `check`, each one's answer to a hello (or why there is none).
    func peerList(check: Bool) async -> [PeerInfo] {
        await withTaskGroup(of: (Int, PeerInfo).self) { group in
            for (index, peer) in peers.all().enumerated() {
                group.addTask {
                    var info = PeerRegistry.info(peer)
                    guard check else { return (index, info) }
                    do {
                        let hello: PeerHello = try await self.peers.client(peer)
                            .call(.GET, "/peer/v1/host", timeout: .seconds(5))
                        info.status = "Connected"
                        info.reportedHostName = hello.hostName
                        info.reportedVersion = hello.version
                    } catch {
                        info.status = ViridianError.wrapping(error).message
                    }
                    return (index, info)
                }
            }
            var result: [(Int, PeerInfo)] = []
            for await entry in group { result.append(entry) }
            return result.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
