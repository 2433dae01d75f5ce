import APITypes
import Hummingbird

/// `/v1/images`: registered images and the test guest's build.
struct ImageController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/images") { _, _ in JSONResponse(value: try host.images.list()) }
        router.post("v1/images/test-guest") { request, _ in
            let qga = request.uri.queryParameters["agent"] == "qemu-guest-agent"
            return JSONResponse(value: JobReference(job: try host.images.buildTestGuest(qemuGuestAgent: qga)), status: .accepted)
        }
    }
}
