import APITypes
import Foundation

/// The OpenAPI document viridiand serves, found without `Bundle.module` (whose accessor ends the
/// process when the resource bundle is missing): beside the executable, as `swift build` and the
/// README's install put it, or in the shared data folders.
enum OpenAPIDocument {
    static let bundleName = "Viridian_Daemon.resources"

    /// The places looked at, in order.
    static var candidates: [String] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent().path
        return [Bundle.main.bundlePath, executable].map { "\($0)/\(bundleName)/openapi.yaml" }
            + [URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("share/viridian/openapi.yaml").path]
            + ["/usr/local/share/viridian/openapi.yaml", "/usr/share/viridian/openapi.yaml"]
    }

    /// The document's bytes. - Throws: `notFound` naming where it was looked for.
    static func load() throws -> Data {
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) { return data }
        }
        throw ViridianError(.notFound, "the OpenAPI document is not installed (looked in \(candidates.joined(separator: ", ")))")
    }
}
