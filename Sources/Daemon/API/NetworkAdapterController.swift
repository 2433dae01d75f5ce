import APITypes
import Hummingbird

/// `/v1/vms/{name}/nics[/{index}]`: a VM's network adapters.
struct NetworkAdapterController {
    let vms: any VMService

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/vms/:name/nics") { _, context in
            JSONResponse(value: try await vms.networkAdapters(try context.pathParameter("name")))
        }
        router.post("v1/vms/:name/nics") { request, context in
            let body = try await request.decodeJSON(as: AddNetworkAdapterRequest.self, context: context)
            return JSONResponse(value: try await vms.addNetworkAdapter(try context.pathParameter("name"), body),
                                status: .created)
        }
        router.patch("v1/vms/:name/nics/:index") { request, context in
            let body = try await request.decodeJSON(as: SetNetworkAdapterRequest.self, context: context)
            return JSONResponse(value: try await vms.setNetworkAdapter(try context.pathParameter("name"),
                                                                            index: try Self.index(context), body))
        }
        router.delete("v1/vms/:name/nics/:index") { _, context in
            try await vms.removeNetworkAdapter(try context.pathParameter("name"), index: try Self.index(context))
            return Response(status: .noContent)
        }
    }

    private static func index(_ context: APIRequestContext) throws -> Int {
        guard let index = Int(try context.pathParameter("index")), index >= 0 else {
            throw ViridianError(.invalidArgument, "an adapter index is a number from 0 (see: viridian vm nic list VM)")
        }
        return index
    }
}
