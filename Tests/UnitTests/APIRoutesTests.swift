import APITypes
@testable import Daemon
import Foundation
import Logging
import Testing

/// The OpenAPI document is checked against the routes the router really has, not a hand-kept list.
@Suite("API routes and the OpenAPI document", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                                       "viridiand needs QEMU to open its host"))
struct APIRoutesTests {
    @Test("openapi.yaml documents exactly the routes the router has (and the WebSocket upgrades)")
    func documentMatchesRouter() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-routes-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let host = try await ViridianHost.open(DaemonConfiguration(stateDirectory: directory, socketPath: "\(directory)/viridiand.sock",
                                                                   cacheDirectory: "\(directory)/cache", accelerator: .tcg,
                                                                   hostName: "routes-test"),
                                               logger: Logger(label: "routes-test"))
        let routes = ApplicationBuilder.routes(host: host)
        await host.shutDown()
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: source.appendingPathComponent("Sources/Daemon/Resources/openapi.yaml"), encoding: .utf8)
        let documented = Self.operations(in: document)
        #expect(routes.count > 50, "the router lists its routes: \(routes.count)")
        #expect(documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
        #expect(routes.subtracting(documented).isEmpty, "served but not documented: \(routes.subtracting(documented).sorted())")
    }

    /// `method path` pairs from the document's `paths` section (two-space path keys, four-space methods).
    static func operations(in document: String) -> Set<String> {
        var result = Set<String>()
        var path: String?
        for line in document.split(separator: "\n") {
            if line.hasPrefix("  /") { path = String(line.dropFirst(2).dropLast()); continue }
            if !line.hasPrefix("    ") { if !line.hasPrefix("  ") { path = nil }; continue }
            let method = line.dropFirst(4).prefix { $0 != ":" }
            if let path, ["get", "post", "put", "patch", "delete"].contains(String(method)) {
                result.insert("\(method) \(path)")
            }
        }
        return result
    }

    @Test("the OpenAPI document is found beside the executable, and a missing one is an error, not a crash")
    func documentLookup() throws {
        #expect(OpenAPIDocument.candidates.allSatisfy { $0.hasSuffix("openapi.yaml") })
        #expect(OpenAPIDocument.candidates.contains { $0.contains(OpenAPIDocument.bundleName) })
    }
}
