@testable import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The request bodies the router reads agree with the schemas the OpenAPI document publishes: a body
/// holding only the document's required fields is accepted by the decoder (every optional field really
/// is optional), and a body the schema forbids (a required field left out, or a field of the wrong
/// type) is refused as a bad body, which shows the route reads that schema at all.
@Suite("Request bodies and the OpenAPI document", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                                          "viridiand needs QEMU to open its host"))
struct RequestSchemaTests {
    /// The VM every `{name}` route is sent to: created Off, never started.
    static let vmName = "schema-vm"

    /// Two requests to one body route, built from the document before the router is driven.
    struct Probe: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var minimalBody: String
        var forbiddenBody: String?
        var forbiddenBecause: String

        var description: String { "\(method) \(uri)" }
    }

    @Test("every body route accepts the document's required fields alone and refuses what its schema forbids")
    func bodiesMatchTheDocument() async throws {
        let all = try Self.probes(from: PublishedDocument.repositoryCopy())
        let probes = all.filter { !$0.uri.hasPrefix("/web/") }
        let webProbes = all.filter { $0.uri.hasPrefix("/web/") }
        #expect(probes.count >= 20 && !webProbes.isEmpty, "the document has body routes: \(all)")
        try await withTemporaryHost("schema-test") { host in
            let app = Application(router: ApplicationBuilder.router(host: host))
            try await app.test(.router) { client in
                let created = try await client.execute(uri: "/v1/vms", method: .post,
                                                       body: ByteBuffer(string: #"{"name":"\#(Self.vmName)","network":"none"}"#))
                #expect(created.status == .created, "the VM the routes are sent to is created: \(String(buffer: created.body))")
                for probe in probes {
                    let accepted = try await client.execute(uri: probe.uri, method: probe.method, body: ByteBuffer(string: probe.minimalBody))
                    #expect(!Self.isBadBody(accepted),
                            "\(probe): the body \(probe.minimalBody) holds every required field, yet: \(String(buffer: accepted.body))")
                    guard let forbidden = probe.forbiddenBody else { continue }
                    let refused = try await client.execute(uri: probe.uri, method: probe.method, body: ByteBuffer(string: forbidden))
                    #expect(Self.isBadBody(refused), """
                        \(probe): the body \(forbidden) \(probe.forbiddenBecause), yet: \(refused.status) \(String(buffer: refused.body))
                        """)
                }
            }
            // The web listener's own body route (sign-in) is open on its router; it takes JSON only.
            try await Application(router: WebListener.router(host: host, web: WebServices(host: host))).test(.router) { client in
                for probe in webProbes {
                    let json: HTTPFields = [.contentType: "application/json"]
                    let accepted = try await client.execute(uri: probe.uri, method: probe.method, headers: json,
                                                            body: ByteBuffer(string: probe.minimalBody))
                    #expect(!Self.isBadBody(accepted), "\(probe): \(probe.minimalBody) was refused: \(String(buffer: accepted.body))")
                    guard let forbidden = probe.forbiddenBody else { continue }
                    let refused = try await client.execute(uri: probe.uri, method: probe.method, headers: json, body: ByteBuffer(string: forbidden))
                    #expect(Self.isBadBody(refused), "\(probe): \(forbidden) \(probe.forbiddenBecause), yet: \(refused.status)")
                }
            }
        }
    }

    @Test("the schema walker builds minimal and forbidden bodies from $ref, inline and nested schemas")
    func walkerBuildsBodies() throws {
        let document = try PublishedDocument(text: """
            paths:
              /v1/things/{name}:
                post: {requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}}
            components:
              schemas:
                Thing:
                  type: object
                  required: [name, size]
                  properties: {name: {type: string}, size: {type: integer, minimum: 4}, kind: {type: string, enum: [a, b]}}
            """)
        let operation = try #require(document.bodyOperations.first)
        #expect(operation.method == "POST")
        #expect(operation.uri(substituting: ["name": "x y"]) == "/v1/things/x%20y")
        let minimal = document.minimalValue(operation.schema) as? [String: Any]
        #expect(minimal?.keys.sorted() == ["name", "size"])
        #expect(minimal?["size"] as? Int == 4)
        let forbidden = try #require(document.forbiddenValue(operation.schema))
        #expect((forbidden.body as? [String: Any])?.keys.sorted() == ["size"], "the first required field is left out")
    }

    /// One probe per body route, path parameters filled with the test VM or with names that do not exist.
    static func probes(from document: PublishedDocument) throws -> [Probe] {
        try document.bodyOperations.map { operation in
            let uri = operation.uri(substituting: ["name": vmName, "switch": "schema-no-such-switch", "index": "0",
                                                   "peer": "schema-no-such-peer", "service": "heartbeat", "checkpoint": "schema-no-such-checkpoint",
                                                   "job": UUID().uuidString, "id": UUID().uuidString])
            let forbidden = document.forbiddenValue(operation.schema)
            return Probe(method: try #require(HTTPRequest.Method(operation.method)), uri: uri,
                         minimalBody: try json(document.minimalValue(operation.schema)),
                         forbiddenBody: try forbidden.map { try json($0.body) }, forbiddenBecause: forbidden?.why ?? "")
        }
    }

    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]), as: UTF8.self)
    }

    /// A refusal of the body itself (decoding), as `Request.decodeJSON` reports it.
    static func isBadBody(_ response: TestResponse) -> Bool {
        let message = String(buffer: response.body)
        return response.status == .badRequest
            && (message.contains("invalid request body") || message.contains("this request needs a JSON body"))
    }
}
