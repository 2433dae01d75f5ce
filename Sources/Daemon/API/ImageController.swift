import APITypes
import Hummingbird

/// `/v1/images`: registered images and the test guest's build.
struct ImageController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/images") { _, _ in JSONResponse(value: try host.images.list()) }
        router.post("v1/images/test-guest") { request, _ in
            let qga: Bool
            switch request.queryText("agent") {
            case nil, "viridian": qga = false
            case "qemu-guest-agent": qga = true
            case let other?: throw ViridianError(.invalidArgument, "agent must be viridian or qemu-guest-agent, not '\(Quote.prefix(other))'")
            }
            return JSONResponse(value: JobReference(job: try host.images.buildTestGuest(qemuGuestAgent: qga)), status: .accepted)
        }
    }
}
