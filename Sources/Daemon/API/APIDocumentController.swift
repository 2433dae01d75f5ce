import Hummingbird

/// `/openapi.yaml`: the API's own description.
struct APIDocumentController {
    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("openapi.yaml") { _, _ in
            let data = try OpenAPIDocument.load()
            return Response(status: .ok, headers: [.contentType: "application/yaml"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
