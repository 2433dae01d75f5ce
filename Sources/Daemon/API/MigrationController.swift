import APITypes
import Foundation
import HostServices
import Hummingbird
import Peers

/// Peers, host settings, moves and drains: `/v1/host/{certificate,peers,settings,drain}` and
/// `/v1/vms/{name}/move`, `/v1/vms/{name}/move-storage`.
struct MigrationController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/host/certificate") { _, _ in
            let identity = host.peers.identity
            return JSONResponse(value: HostCertificate(hostName: identity.hostName, certificate: identity.authorityPEM,
                                                       fingerprint: try PeerAuthority(pem: identity.authorityPEM).fingerprint))
        }
        router.get("v1/host/peers") { request, _ in
            JSONResponse(value: await host.peerList(check: request.uri.queryParameters["check"] == "true"))
        }
        router.post("v1/host/peers") { request, context in
            let body = try await request.decodeJSON(as: AddPeerRequest.self, context: context)
            return JSONResponse(value: try host.peers.add(body), status: .created)
        }
        router.delete("v1/host/peers/:peer") { _, context in
            try host.peers.remove(try context.parameters.require("peer"))
            return Response(status: .noContent)
        }
        router.get("v1/host/settings") { _, _ in JSONResponse(value: host.settings.settings) }
        router.patch("v1/host/settings") { request, context in
            let body = try await request.decodeJSON(as: SetHostSettingsRequest.self, context: context)
            let settings = try host.settings.update(body, physicalMemoryMiB: Int(ProcessInfo.processInfo.physicalMemory >> 20))
            await host.migrations.slots.wake()
            return JSONResponse(value: settings)
        }
        router.post("v1/host/drain") { request, context in
            let body = try await request.decodeJSONIfPresent(as: DrainRequest.self, context: context) ?? DrainRequest()
            return JSONResponse(value: JobReference(job: try await host.migrations.drain(body)), status: .accepted)
        }
        router.get("v1/host/drain") { _, _ in JSONResponse(value: host.migrations.drainStatus()) }
        router.post("v1/vms/:name/move") { request, context in
            let body = try await request.decodeJSON(as: MoveVMRequest.self, context: context)
            let job = try await host.migrations.move(try context.parameters.require("name"), body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        router.post("v1/vms/:name/move-storage") { request, context in
            let body = try await request.decodeJSON(as: MoveStorageRequest.self, context: context)
            let job = try await host.migrations.moveStorage(try context.parameters.require("name"), body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
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
