import APITypes
import Hummingbird

/// `/v1/switches[/{name}]`: virtual switches.
struct SwitchController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("v1/switches") { _, _ in JSONResponse(value: try await host.switches.list()) }
        router.post("v1/switches") { request, context in
            let body = try await request.decodeJSON(as: NewSwitchRequest.self, context: context)
            return JSONResponse(value: try await host.switches.create(body), status: .created)
        }
        router.get("v1/switches/:switch") { _, context in
            JSONResponse(value: try await host.switches.show(try context.pathParameter("switch")))
        }
        router.patch("v1/switches/:switch") { request, context in
            let body = try await request.decodeJSON(as: SetSwitchRequest.self, context: context)
            return JSONResponse(value: try await host.switches.set(try context.pathParameter("switch"), body))
        }
        router.delete("v1/switches/:switch") { _, context in
            try await host.removeSwitch(try context.pathParameter("switch"))
            return Response(status: .noContent)
        }
    }
}
