import APITypes
import Foundation
import Hummingbird

/// Virtual switches, `/v1/switches[/{name}]`, and VM network adapters, `/v1/vms/{name}/nics[/{index}]`.
struct NetworkController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/switches") { _, _ in JSONResponse(value: try await host.switches.list()) }
        router.post("v1/switches") { request, context in
            let body = try await request.decodeJSON(as: NewSwitchRequest.self, context: context)
            return JSONResponse(value: try await host.switches.create(body), status: .created)
        }
        router.get("v1/switches/:switch") { _, context in
            JSONResponse(value: try await host.switches.show(try context.parameters.require("switch")))
        }
        router.patch("v1/switches/:switch") { request, context in
            let body = try await request.decodeJSON(as: SetSwitchRequest.self, context: context)
            return JSONResponse(value: try await host.switches.set(try context.parameters.require("switch"), body))
        }
        router.delete("v1/switches/:switch") { _, context in
            try await host.removeSwitch(try context.parameters.require("switch"))
            return Response(status: .noContent)
        }
        router.get("v1/vms/:name/nics") { _, context in
            JSONResponse(value: try await host.vms.networkAdapters(try context.parameters.require("name")))
        }
        router.post("v1/vms/:name/nics") { request, context in
            let body = try await request.decodeJSON(as: AddNetworkAdapterRequest.self, context: context)
            return JSONResponse(value: try await host.vms.addNetworkAdapter(try context.parameters.require("name"), body),
                                status: .created)
        }
        router.patch("v1/vms/:name/nics/:index") { request, context in
            let body = try await request.decodeJSON(as: SetNetworkAdapterRequest.self, context: context)
            return JSONResponse(value: try await host.vms.setNetworkAdapter(try context.parameters.require("name"),
                                                                            index: try Self.index(context), body))
        }
        router.delete("v1/vms/:name/nics/:index") { _, context in
            try await host.vms.removeNetworkAdapter(try context.parameters.require("name"), index: try Self.index(context))
            return Response(status: .noContent)
        }
    }

    private static func index(_ context: APIRequestContext) throws -> Int {
        guard let index = Int(try context.parameters.require("index")), index >= 0 else {
            throw ViridianError(.invalidArgument, "an adapter index is a number from 0 (see: viridian vm nic list VM)")
        }
        return index
    }
}
