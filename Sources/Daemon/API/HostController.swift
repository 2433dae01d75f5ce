import APITypes
import Foundation
import HostServices
import Hummingbird
import Peers

/// `/v1/host`: the host, its shutdown, its certificate and its settings.
struct HostController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/host") { _, _ in JSONResponse(value: await host.info()) }
        router.post("v1/host/shutdown") { _, _ in JSONResponse(value: JobReference(job: host.shutDownHost()), status: .accepted) }
        router.get("v1/host/certificate") { _, _ in
            let identity = host.peers.identity
            return JSONResponse(value: HostCertificate(hostName: identity.hostName, certificate: identity.authorityPEM,
                                                       fingerprint: try PeerAuthority(pem: identity.authorityPEM).fingerprint))
        }
        router.get("v1/host/settings") { _, _ in JSONResponse(value: host.settings.settings) }
        router.patch("v1/host/settings") { request, context in
            let body = try await request.decodeJSON(as: SetHostSettingsRequest.self, context: context)
            let settings = try host.settings.update(body, physicalMemoryMiB: Int(ProcessInfo.processInfo.physicalMemory >> 20))
            await host.migrations.slots.wake()
            return JSONResponse(value: settings)
        }
    }
}
