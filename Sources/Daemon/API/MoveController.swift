import APITypes
import Hummingbird

/// Moves: `/v1/vms/{name}/move`, `/v1/vms/{name}/move-storage`, and draining the host, `/v1/host/drain`.
struct MoveController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.post("v1/host/drain") { request, context in
            let body = try await request.decodeJSONIfPresent(as: DrainRequest.self, context: context) ?? DrainRequest()
            return JSONResponse(value: JobReference(job: try await host.migrations.drain(body)), status: .accepted)
        }
        router.get("v1/host/drain") { _, _ in JSONResponse(value: host.migrations.drainStatus()) }
        router.post("v1/vms/:name/move") { request, context in
            let body = try await request.decodeJSON(as: MoveVMRequest.self, context: context)
            let job = try await host.migrations.move(try context.pathParameter("name"), body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        router.post("v1/vms/:name/move-storage") { request, context in
            let body = try await request.decodeJSON(as: MoveStorageRequest.self, context: context)
            let job = try await host.migrations.moveStorage(try context.pathParameter("name"), body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
    }
}
