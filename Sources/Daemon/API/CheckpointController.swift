import APITypes
import Checkpoints
import Hummingbird

/// `/v1/vms/{name}/checkpoints[/{checkpoint}]`: a VM's checkpoints (Checkpoint-VM, Get-VMCheckpoint,
/// Restore-VMCheckpoint, Export-VMSnapshot, Rename-VMCheckpoint, Remove-VMCheckpoint).
struct CheckpointController {
    let checkpoints: CheckpointService

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/vms/:name/checkpoints") { _, context in
            JSONResponse(value: try await checkpoints.list(try context.pathParameter("name")))
        }
        router.post("v1/vms/:name/checkpoints") { request, context in
            let body = try await request.decodeJSONIfPresent(as: NewCheckpointRequest.self, context: context) ?? NewCheckpointRequest()
            return JSONResponse(value: JobReference(job: try await checkpoints.create(try context.pathParameter("name"), body)),
                                status: .accepted)
        }
        router.post("v1/vms/:name/checkpoints/:checkpoint/apply") { _, context in
            let job = try await checkpoints.apply(try context.pathParameter("name"), checkpoint: try context.pathParameter("checkpoint"))
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        router.post("v1/vms/:name/checkpoints/:checkpoint/export") { request, context in
            let body = try await request.decodeJSON(as: ExportCheckpointRequest.self, context: context)
            let job = try await checkpoints.export(try context.pathParameter("name"), checkpoint: try context.pathParameter("checkpoint"), body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        router.patch("v1/vms/:name/checkpoints/:checkpoint") { request, context in
            let body = try await request.decodeJSON(as: RenameCheckpointRequest.self, context: context)
            return JSONResponse(value: try await checkpoints.rename(try context.pathParameter("name"),
                                                                    checkpoint: try context.pathParameter("checkpoint"), to: body.name))
        }
        router.delete("v1/vms/:name/checkpoints/:checkpoint") { request, context in
            let job = try await checkpoints.remove(try context.pathParameter("name"), checkpoint: try context.pathParameter("checkpoint"),
                                                   subtree: try request.queryFlag("subtree"))
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
    }
}
