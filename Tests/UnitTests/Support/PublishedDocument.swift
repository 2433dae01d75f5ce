import APITypes
import Foundation
import Yams

/// The OpenAPI document as the repository holds it (`Sources/Daemon/Resources/openapi.yaml`), read with
/// Yams: its operations, and the request-body schemas with `$ref`s resolved.
struct PublishedDocument {
    /// One operation that takes a JSON body.
    struct BodyOperation: CustomStringConvertible {
        /// POST, PUT or PATCH.
        var method: String
        var path: String
        var schema: [String: Any]

        var description: String { "\(method) \(path)" }

        /// The path with each `{parameter}` replaced by its value, percent-encoded.
        func uri(substituting values: [String: String]) -> String {
            var uri = path
            for (key, value) in values {
                uri = uri.replacingOccurrences(of: "{\(key)}", with: value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)
            }
            return uri
        }
    }

    private let document: [String: Any]

    /// The repository's document.
    static func repositoryCopy() throws -> PublishedDocument {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return try PublishedDocument(text: String(contentsOf: source.appendingPathComponent("Sources/Daemon/Resources/openapi.yaml"),
                                                  encoding: .utf8))
    }

    init(text: String) throws {
        guard let document = try Yams.load(yaml: text) as? [String: Any] else {
            throw ViridianError(.invalidArgument, "the OpenAPI document is not a YAML mapping")
        }
        self.document = document
    }

    private var paths: [String: [String: Any]] {
        (document["paths"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
    }

    /// Every `method path` pair the document describes (methods in lower case).
    var operations: Set<String> {
        var result = Set<String>()
        for (path, item) in paths {
            for method in item.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                result.insert("\(method) \(path)")
            }
        }
        return result
    }

    /// The POST, PUT and PATCH operations with a JSON request body, sorted.
    var bodyOperations: [BodyOperation] {
        var result: [BodyOperation] = []
        for (path, item) in paths {
            for (method, operation) in item {
                guard ["post", "put", "patch"].contains(method),
                      let body = (operation as? [String: Any])?["requestBody"] as? [String: Any],
                      let content = body["content"] as? [String: Any],
                      let json = content["application/json"] as? [String: Any],
                      let schema = json["schema"] as? [String: Any] else { continue }
                result.append(BodyOperation(method: method.uppercased(), path: path, schema: schema))
            }
        }
        return result.sorted { $0.description < $1.description }
    }

    /// The schema with a `$ref` followed (`#/components/schemas/NAME`).
    func resolved(_ schema: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        let name = reference.split(separator: "/").last.map(String.init) ?? ""
        let components = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        return resolved(components?[name] as? [String: Any] ?? [:])
    }

    /// A value holding only what the schema requires: required properties, each at its smallest valid value.
    func minimalValue(_ schema: [String: Any]) -> Any {
        let schema = resolved(schema)
        if let values = schema["enum"] as? [Any], let first = values.first { return first }
        switch schema["type"] as? String {
        case "object", nil:
            let properties = schema["properties"] as? [String: Any] ?? [:]
            var object: [String: Any] = [:]
            for name in schema["required"] as? [String] ?? [] {
                object[name] = minimalValue(properties[name] as? [String: Any] ?? [:])
            }
            return object
        case "integer", "number": return schema["minimum"] as? Int ?? 1
        case "boolean": return false
        case "array": return [Any]()
        default: return "schema-probe"
        }
    }

    /// A body the schema forbids and why: the minimal body without its first required field, or,
    /// when nothing is required, with one property given a value of the wrong type. Nil when the
    /// schema allows any object.
    func forbiddenValue(_ schema: [String: Any]) -> (body: Any, why: String)? {
        let schema = resolved(schema)
        guard var object = minimalValue(schema) as? [String: Any] else { return nil }
        if let first = (schema["required"] as? [String])?.first {
            object[first] = nil
            return (object, "leaves out the required field '\(first)'")
        }
        let properties = schema["properties"] as? [String: Any] ?? [:]
        for name in properties.keys.sorted() {
            let property = resolved(properties[name] as? [String: Any] ?? [:])
            switch property["type"] as? String {
            case "string": object[name] = ["not": "a string"]
            case "integer", "number", "boolean", "array", "object": object[name] = "not-a-\(property["type"] ?? "")"
            default: continue
            }
            return (object, "gives '\(name)' a value of the wrong type")
        }
        return nil
    }
}
