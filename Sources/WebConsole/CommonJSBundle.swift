import APITypes
import Foundation

/// Debian's `node-xterm` ships xterm.js as CommonJS modules (`/usr/share/nodejs/xterm/lib`), and
/// `libjs-xterm`'s browser file on Debian 12 only `require`s them. This joins the modules into one
/// browser script that defines `window.Terminal`, with a loader that resolves the relative
/// `require`s among them. Built once from the package's files; nothing of them is committed.
public enum CommonJSBundle {
    /// Bounds what is read: xterm 3.8's modules total about 400 KiB.
    static let maximumBytes = 8 << 20

    /// The bundle of the modules under `root`, starting at `entry` (`xterm`), exported as `global`.
    public static func build(root: String, entry: String, global: String) throws -> String {
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        let modules = files.filter { $0.hasSuffix(".js") && !$0.hasSuffix(".test.js") }.sorted()
        guard modules.contains(entry + ".js") else {
            throw ViridianError(.missingDependency, "\(root)/\(entry).js is missing: install it with: apt-get install node-xterm")
        }
        var total = 0
        var definitions: [String] = []
        for module in modules {
            let text = try String(contentsOfFile: "\(root)/\(module)", encoding: .utf8)
            total += text.utf8.count
            guard total <= maximumBytes else {
                throw ViridianError(.internalError, "the modules under \(root) are larger than \(maximumBytes >> 20) MiB")
            }
            let id = String(module.dropLast(3))
            let source = text.replacingOccurrences(of: "//# sourceMappingURL=", with: "// ")
            definitions.append("\(try jsonString(id)): function (require, module, exports) {\n\(source)\n}")
        }
        return """
        (function () {
        "use strict";
        var definitions = {
        \(definitions.joined(separator: ",\n"))
        };
        var loaded = {};
        function resolve(from, request) {
            var parts = from.split("/").slice(0, -1);
            request.split("/").forEach(function (part) {
                if (part === "..") parts.pop(); else if (part !== ".") parts.push(part);
            });
            return parts.join("/");
        }
        function load(id) {
            if (loaded[id]) return loaded[id].exports;
            if (!definitions[id]) throw new Error("module " + id + " is not in the bundle");
            var module = { exports: {} };
            loaded[id] = module;
            definitions[id](function (request) { return load(resolve(id, request)); }, module, module.exports);
            return module.exports;
        }
        window[\(try jsonString(global))] = load(\(try jsonString(entry)));
        })();
        """
    }

    private static func jsonString(_ text: String) throws -> String {
        String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
    }
}
