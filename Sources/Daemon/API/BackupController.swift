import APITypes
import Backup
import Hummingbird

/// `/v1/vms/{name}/backup` and `/v1/backups…`: backups of VMs into repositories, the
/// repositories' points (list, verify, restore, prune), and NBD exports for other backup tools.
struct BackupController {
    let backups: BackupService

    func addRoutes(to router: Router<APIRequestContext>) {
        router.post("v1/vms/:name/backup") { request, context in
            let body = try await request.decodeJSON(as: BackupRequest.self, context: context)
            return JSONResponse(value: JobReference(job: try await backups.backUp(try context.pathParameter("name"), body)), status: .accepted)
        }
        router.post("v1/vms/:name/backup/export") { request, context in
            let body = try await request.decodeJSON(as: BackupExportRequest.self, context: context)
            return JSONResponse(value: try await backups.startExport(try context.pathParameter("name"), body), status: .created)
        }
        router.get("v1/vms/:name/backup/export") { _, context in
            JSONResponse(value: try await backups.export(ofVM: try context.pathParameter("name")))
        }
        router.delete("v1/vms/:name/backup/export") { request, context in
            JSONResponse(value: try await backups.stopExport(try context.pathParameter("name"), discard: try request.queryFlag("discard")))
        }
        router.get("v1/backups") { request, _ in
            JSONResponse(value: try backups.list(request.queryText("path") ?? "", vm: request.queryText("vm")))
        }
        router.post("v1/backups/verify") { request, context in
            let body = try await request.decodeJSON(as: VerifyBackupRequest.self, context: context)
            return JSONResponse(value: JobReference(job: try backups.verify(body)), status: .accepted)
        }
        router.post("v1/backups/restore") { request, context in
            let body = try await request.decodeJSON(as: RestoreBackupRequest.self, context: context)
            return JSONResponse(value: JobReference(job: try backups.restore(body)), status: .accepted)
        }
        router.post("v1/backups/prune") { request, context in
            let body = try await request.decodeJSON(as: PruneBackupRequest.self, context: context)
            return JSONResponse(value: JobReference(job: try backups.prune(body)), status: .accepted)
        }
    }
}
