import APIClient
import APITypes
import Foundation
import Testing

/// The daemon serves its OpenAPI document, and every route it answers is in it.
@Suite("OpenAPI document", .enabled(if: HostSupport.hasQEMU && HostSupport.hasBuild, Comment(rawValue: HostSupport.missing)))
struct APIDocumentTests {
    /// Every route viridiand registers (method and path template).
    static let routes = [
        "get /v1/host", "get /v1/images", "post /v1/images/test-guest", "get /v1/vms", "post /v1/vms",
        "get /v1/vms/{name}", "patch /v1/vms/{name}", "delete /v1/vms/{name}", "post /v1/vms/{name}/start",
        "post /v1/vms/{name}/stop", "post /v1/vms/{name}/save", "post /v1/vms/{name}/pause", "post /v1/vms/{name}/resume",
        "post /v1/vms/{name}/restart", "post /v1/vms/{name}/disks", "delete /v1/vms/{name}/disks", "put /v1/vms/{name}/dvd",
        "get /v1/vms/{name}/console/log", "get /v1/vms/{name}/console", "get /v1/jobs", "get /v1/jobs/{id}",
        "post /v1/jobs/{id}/cancel", "get /v1/events", "get /v1/vhds", "post /v1/vhds", "post /v1/vhds/resize",
        "post /v1/vhds/convert", "post /v1/vhds/merge", "get /openapi.yaml",
        "get /v1/vms/{name}/integration-services", "put /v1/vms/{name}/integration-services/{service}",
        "get /v1/vms/{name}/kvp", "patch /v1/vms/{name}/kvp", "post /v1/vms/{name}/freeze", "post /v1/vms/{name}/thaw",
        "post /v1/vms/{name}/copy-file", "post /v1/vms/{name}/integration-disk", "get /v1/vms/{name}/exec",
        "get /v1/integration/report", "post /v1/integration/update", "get /v1/integration/update/{job}",
        "get /v1/host/certificate", "get /v1/host/peers", "post /v1/host/peers", "delete /v1/host/peers/{peer}",
        "get /v1/host/settings", "patch /v1/host/settings", "get /v1/host/drain", "post /v1/host/drain",
        "post /v1/vms/{name}/move", "post /v1/vms/{name}/move-storage",
        "get /v1/switches", "post /v1/switches", "get /v1/switches/{switch}", "patch /v1/switches/{switch}",
        "delete /v1/switches/{switch}", "get /v1/vms/{name}/nics", "post /v1/vms/{name}/nics",
        "patch /v1/vms/{name}/nics/{index}", "delete /v1/vms/{name}/nics/{index}",
    ]

    @Test("served by the daemon and documenting every route")
    func served() async throws {
        try await TestDaemon.with { daemon in
            let document = try await daemon.client.openAPIDocument()
            #expect(document.hasPrefix("openapi: 3"))
            let documented = Self.operations(in: document)
            for route in Self.routes {
                #expect(documented.contains(route), "\(route) is not in openapi.yaml")
            }
            #expect(documented.count == Self.routes.count, "openapi.yaml documents routes that do not exist: \(documented.subtracting(Self.routes))")
        }
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
}
