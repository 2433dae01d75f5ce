import APITypes
import Hummingbird

/// `/v1/integration`: every VM's integration services release (`ic report`) and their update (`ic update`).
struct IntegrationUpdateController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/integration/report") { _, _ in JSONResponse(value: await host.vms.integrationReport()) }
        router.post("v1/integration/update") { request, context in
            let body = try await request.decodeJSON(as: IntegrationUpdateRequest.self, context: context)
            let job = try await host.integrationUpdates.update(body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        router.get("v1/integration/update/:job") { _, context in
            JSONResponse(value: try host.integrationUpdates.results(job: try context.pathParameter("job")))
        }
    }
}
