import APIClient
import APITypes
import Foundation
import Testing

/// The daemon serves its OpenAPI document.
@Suite("OpenAPI document", .enabled(if: HostSupport.hasQEMU && HostSupport.hasBuild, Comment(rawValue: HostSupport.missing)))
struct APIDocumentTests {
    @Test("served by the daemon, the same document as in the source tree (UnitTests check it against the router)")
    func served() async throws {
        try await TestDaemon.with { daemon in
            let document = try await daemon.client.openAPIDocument()
            #expect(document.hasPrefix("openapi: 3"))
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let tree = try String(contentsOf: source.appendingPathComponent("Sources/Daemon/Resources/openapi.yaml"), encoding: .utf8)
            #expect(document == tree)
        }
    }
}
