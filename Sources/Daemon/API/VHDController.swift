import APITypes
import Hummingbird

/// `/v1/vhds`: virtual hard disks (New-VHD, Get-VHD, Resize-VHD, Convert-VHD, Merge-VHD, Repair-VHD).
struct VHDController {
    let vhds: VHDService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get { request, _ in
            guard let path = request.queryText("path") else { throw APIError.missingParameter("path") }
            let format = try request.queryChoice("format", as: VHDFormat.self)
            return JSONResponse(value: try await vhds.show(path, declared: format))
        }
        group.post { request, context in
            let body = try await request.decodeJSON(as: NewVHDRequest.self, context: context)
            return JSONResponse(value: try await vhds.create(body), status: .created)
        }
        group.post("resize") { request, context in
            JSONResponse(value: try await vhds.resize(try await request.decodeJSON(as: ResizeVHDRequest.self, context: context)))
        }
        group.post("convert") { request, context in
            let job = try await vhds.convert(try await request.decodeJSON(as: ConvertVHDRequest.self, context: context))
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        group.post("repair") { request, context in
            JSONResponse(value: try await vhds.repair(try await request.decodeJSON(as: RepairVHDRequest.self, context: context)))
        }
        group.post("merge") { request, context in
            let job = try await vhds.merge(try await request.decodeJSON(as: MergeVHDRequest.self, context: context))
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
    }
}
