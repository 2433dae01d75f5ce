import APITypes
import Foundation
import Hummingbird

/// `/v1/vms`: VMs and their lifecycle.
struct VMController {
    let vms: any VMService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get { _, _ in JSONResponse(value: await vms.list()) }
        group.post { request, context in
            let body = try await request.decodeJSON(as: CreateVMRequest.self, context: context)
            return JSONResponse(value: try await vms.create(body), status: .created)
        }
        group.post("import") { request, context in
            let body = try await request.decodeJSON(as: ImportVMRequest.self, context: context)
            return JSONResponse(value: try await vms.importVM(body), status: .created)
        }
        group.get(":name") { _, context in JSONResponse(value: try await vms.show(try name(context))) }
        group.patch(":name") { request, context in
            let body = try await request.decodeJSON(as: SetVMRequest.self, context: context)
            return JSONResponse(value: try await vms.set(try name(context), body))
        }
        group.delete(":name") { request, context in
            try await vms.remove(try name(context), deleteDisks: try request.queryFlag("deleteDisks"),
                                 deleteAttachedDisks: try request.queryFlag("deleteAttachedDisks"))
            return Response(status: .noContent)
        }
        group.post(":name/start") { _, context in job(try await vms.start(try name(context))) }
        group.post(":name/stop") { request, context in
            let body = try await request.decodeJSONIfPresent(as: StopVMRequest.self, context: context) ?? StopVMRequest()
            return job(try await vms.stop(try name(context), body))
        }
        group.post(":name/save") { _, context in job(try await vms.save(try name(context))) }
        group.post(":name/shield") { request, context in
            let body = try await request.decodeJSONIfPresent(as: ShieldVMRequest.self, context: context) ?? ShieldVMRequest()
            return job(try await vms.shield(try name(context), body))
        }
        group.post(":name/pause") { _, context in JSONResponse(value: try await vms.pause(try name(context))) }
        group.post(":name/resume") { _, context in JSONResponse(value: try await vms.resume(try name(context))) }
        group.post(":name/restart") { _, context in JSONResponse(value: try await vms.restart(try name(context))) }
        group.post(":name/disks") { request, context in
            let body = try await request.decodeJSON(as: AddDiskRequest.self, context: context)
            return JSONResponse(value: try await vms.addDisk(try name(context), body))
        }
        group.delete(":name/disks") { request, context in
            JSONResponse(value: try await vms.removeDisk(
                try name(context), path: request.queryText("path"), controllerType: try request.queryChoice("controllerType", as: ControllerType.self),
                controllerNumber: try request.queryInteger("controllerNumber", in: Self.controllerSlots),
                location: try request.queryInteger("location", in: Self.controllerSlots)))
        }
        group.put(":name/dvd") { request, context in
            let body = try await request.decodeJSON(as: SetDVDRequest.self, context: context)
            return JSONResponse(value: try await vms.setDVD(try name(context), path: body.path))
        }
        group.delete(":name/dvd") { request, context in
            JSONResponse(value: try await vms.removeDVDDrive(
                try name(context), controllerType: try request.queryChoice("controllerType", as: ControllerType.self),
                controllerNumber: try request.queryInteger("controllerNumber", in: Self.controllerSlots),
                location: try request.queryInteger("location", in: Self.controllerSlots)))
        }
        group.get(":name/console/log") { request, context in
            let limit = try request.queryInteger("bytes", in: 0...Self.consoleLogLimit) ?? (1 << 20)
            let text = try await vms.consoleLog(try name(context), lastBytes: limit)
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }

    /// Controller numbers and locations a query may name (Hyper-V's SCSI controller has 64 locations).
    static let controllerSlots = 0...63
    /// The most of a console log one request returns.
    static let consoleLogLimit = 16 << 20

    private func name(_ context: APIRequestContext) throws -> String {
        try context.pathParameter("name")
    }

    private func job(_ info: JobInfo) -> JSONResponse<JobReference> {
        JSONResponse(value: JobReference(job: info), status: .accepted)
    }
}
