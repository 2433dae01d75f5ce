import APITypes
import Foundation
import Synchronization

/// The files the web console serves: its own page, script and style (this module's resources),
/// xterm.js from Debian's `node-xterm` (joined by `CommonJSBundle`) and noVNC from Debian's
/// `novnc`. Nothing comes from the internet. Paths are taken apart and checked: only plain names
/// under the known folders, never `..` or hidden files.
public final class WebAssets: Sendable {
    /// One file to send.
    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
    }

    public static let xtermModules = "/usr/share/nodejs/xterm/lib"
    public static let novncRoot = "/usr/share/novnc"
    static let bundleName = "Viridian_WebConsole.resources"
    static let maximumFile = 4 << 20
    private let xtermBundle = Mutex<Asset?>(nil)

    public init() {}

    /// Where the console's own files are, found without `Bundle.module` (whose accessor ends the
    /// process when its bundle is missing): beside the executable, as `swift build` puts them, or
    /// where `scripts/install.sh` does (`PREFIX/share/viridian/web`).
    static var resourceCandidates: [String] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        return [Bundle.main.bundlePath, executable.path].map { "\($0)/\(bundleName)/Resources" }
            + [executable.deletingLastPathComponent().appendingPathComponent("share/viridian/web").path,
               "/usr/local/share/viridian/web", "/usr/share/viridian/web"]
    }

    static func resource(_ name: String) throws -> String {
        for directory in resourceCandidates where FileManager.default.fileExists(atPath: "\(directory)/index.html") {
            return "\(directory)/\(name)"
        }
        throw ViridianError(.missingDependency, "the web console's files are not installed (looked in \(resourceCandidates.joined(separator: ", ")))")
    }

    /// The asset at `path` (below `/assets/` or `/novnc/`), nil when there is none.
    public func asset(_ path: String) throws -> Asset? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.first == "",
              parts.dropFirst(2).allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.contains("\\") }) else { return nil }
        let rest = parts.dropFirst(2).joined(separator: "/")
        switch parts[1] {
        case "assets":
            if rest == "xterm.js" { return try xterm() }
            if rest == "xterm.css" { return try file("\(Self.xtermModules)/xterm.css", package: "node-xterm") }
            guard !rest.contains("/") else { return nil }
            return try file(try Self.resource(rest), package: nil, missingIsError: false)
        case "novnc":
            guard rest.hasPrefix("core/") || rest.hasPrefix("vendor/pako/") else { return nil }
            return try file("\(Self.novncRoot)/\(rest)", package: "novnc", missingIsError: false)
        default:
            return nil
        }
    }

    /// The console's page.
    public func page() throws -> Asset {
        guard let page = try file(try Self.resource("index.html"), package: nil, missingIsError: false) else {
            throw ViridianError(.internalError, "the web console's page is missing from viridiand's resources")
        }
        return page
    }

    private func xterm() throws -> Asset {
        if let built = xtermBundle.withLock({ $0 }) { return built }
        let text = try CommonJSBundle.build(root: Self.xtermModules, entry: "xterm", global: "Terminal")
        let asset = Asset(bytes: Array(text.utf8), contentType: "text/javascript; charset=utf-8")
        xtermBundle.withLock { $0 = asset }
        return asset
    }

    private func file(_ path: String, package: String?, missingIsError: Bool = true) throws -> Asset? {
        guard FileManager.default.fileExists(atPath: path) else {
            guard missingIsError, let package else { return nil }
            throw ViridianError(.missingDependency, "\(path) is missing: install it with: apt-get install \(package)")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        guard attributes[.type] as? FileAttributeType == .typeRegular, (attributes[.size] as? Int ?? 0) <= Self.maximumFile else {
            return nil
        }
        return Asset(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))), contentType: Self.contentType(path))
    }

    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }
}
