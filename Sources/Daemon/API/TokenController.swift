import APITypes
import Hummingbird
import WebConsole

/// `/v1/host/tokens`: the API tokens of the web listener. Served on the unix socket only, so that a
/// token never mints another.
struct TokenController {
    let tokens: APITokens

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get { _, _ in JSONResponse(value: try tokens.list()) }
        group.post { request, context in
            let body = try await request.decodeJSON(as: CreateAPITokenRequest.self, context: context)
            return JSONResponse(value: try tokens.create(name: body.name), status: .created)
        }
        group.delete(":name") { _, context in
            try tokens.revoke(name: try context.pathParameter("name"))
            return Response(status: .noContent)
        }
    }
}
