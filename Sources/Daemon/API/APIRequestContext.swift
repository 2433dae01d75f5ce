import APITypes
import Foundation
import Hummingbird

/// The request context of the API: JSON with ISO 8601 dates both ways.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's IP address on the web listener (for the sign-in rate limit); nil on the socket.
    let remoteAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    var requestDecoder: JSONDecoder { WireJSON.decoder() }
    var responseEncoder: JSONEncoder { WireJSON.encoder() }
    /// Request bodies are small JSON documents.
    var maxUploadSize: Int { 1 << 20 }
}

/// A JSON response with a status.
struct JSONResponse<Value: Encodable>: ResponseGenerator {
    var value: Value
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try WireJSON.encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Request {
    /// Decodes the JSON body (within the context's upload limit), turning a malformed one into a clear `invalidArgument` error.
    func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        guard let value = try await decodeJSONIfPresent(as: type, context: context) else {
            throw ViridianError(.invalidArgument, "this request needs a JSON body")
        }
        return value
    }

    /// Decodes the JSON body, or returns nil when there is none.
    func decodeJSONIfPresent<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T? {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        do {
            return try WireJSON.decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badBody(error)
        }
    }
}

extension RequestContext {
    /// The path parameter `key`, percent-decoded once; every route takes names and ids through
    /// here ("Default%20Switch" is the switch "Default Switch"). A decoded value that holds `/` or a
    /// NUL is refused: an encoded slash never reaches another resource.
    func pathParameter(_ key: String) throws -> String {
        let raw = try parameters.require(key)
        guard let decoded = raw.removingPercentEncoding, !decoded.contains("/"), !decoded.contains("\0") else {
            throw ViridianError(.invalidArgument, "'\(Quote.prefix(raw))' is not a valid \(key) in a path")
        }
        return decoded
    }
}
