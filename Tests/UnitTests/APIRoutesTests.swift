import APITypes
@testable import Daemon
import Foundation
import Testing

/// The OpenAPI document is checked against the routes the router really has, not a hand-kept list.
@Suite("API routes and the OpenAPI document", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                                       "viridiand needs QEMU to open its host"))
struct APIRoutesTests {
    @Test("openapi.yaml documents exactly the routes the router has (and the WebSocket upgrades)")
    func documentMatchesRouter() async throws {
        let routes = try await withTemporaryHost("routes-test") { host in ApplicationBuilder.routes(host: host) }
        let documented = try PublishedDocument.repositoryCopy().operations
        #expect(routes.count > 50, "the router lists its routes: \(routes.count)")
        #expect(documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
        #expect(routes.subtracting(documented).isEmpty, "served but not documented: \(routes.subtracting(documented).sorted())")
    }

    @Test("the OpenAPI document is found beside the executable, and a missing one is an error, not a crash")
    func documentLookup() throws {
        #expect(OpenAPIDocument.candidates.allSatisfy { $0.hasSuffix("openapi.yaml") })
        #expect(OpenAPIDocument.candidates.contains { $0.contains(OpenAPIDocument.bundleName) })
    }
}
