import APITypes
import Foundation
import HostServices
import Hummingbird
import Logging
import NIOCore

/// Maps every error to one JSON shape (`{"error": {"code", "message"}}`) and an HTTP status,
/// once, at the API boundary.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as NIOTooManyBytesError {
            context.logger.info("request body over the limit", metadata: ["path": "\(request.uri.path)", "collected": "\(error.maxBytes ?? 0)"])
            let limit = ByteSize.format(UInt64(context.maxUploadSize))
            return try Self.response(ViridianError(.invalidArgument, "the request body is larger than the limit of \(limit)"), status: .contentTooLarge)
        } catch {
            var viridian = APIError.viridianError(error)
            if viridian.code == .internalError {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                if !(error is ViridianError) {
                    // A library's own error: its text can name types and source files, which stay in the log.
                    viridian = ViridianError(.internalError, "viridiand failed unexpectedly; its log has the details (request \(context.id))")
                }
            } else if let cause = viridian.cause {
                context.logger.info("request refused", metadata: ["path": "\(request.uri.path)", "error": "\(viridian.message)", "cause": "\(cause)"])
            }
            return try Self.response(viridian, status: APIError.status(viridian.code))
        }
    }

    /// The error body; a message is cut to `messageLimit` so that no input is echoed back whole.
    static func response(_ error: ViridianError, status: HTTPResponse.Status) throws -> Response {
        var shown = error
        if shown.message.count > APIError.messageLimit {
            shown = ViridianError(error.code, String(error.message.prefix(APIError.messageLimit)) + "…")
        }
        let data = try WireJSON.encoder().encode(ErrorResponse(shown))
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Errors of the HTTP layer itself, and the mapping of codes to statuses.
enum APIError {
    /// The longest error message a response carries (messages quote input only as a short prefix;
    /// this bounds what any other message could echo).
    static let messageLimit = 1024

    static func badBody(_ error: DecodingError) -> ViridianError {
        let detail: String
        switch error {
        case .keyNotFound(let key, _): detail = "the field '\(key.stringValue)' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            detail = "the field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            detail = path.isEmpty ? "the body is not valid JSON" : "the field '\(path)' has an invalid value"
        @unknown default: detail = "the body cannot be read"
        }
        return ViridianError(.invalidArgument, "invalid request body: \(detail)")
    }

    static func viridianError(_ error: any Error) -> ViridianError {
        if let error = error as? ViridianError { return error }
        if let error = error as? HTTPError {
            let code: ViridianError.Code = switch error.status.code {
            case 404: .notFound
            case 400..<500: .invalidArgument
            default: .internalError
            }
            return ViridianError(code, error.body ?? error.status.reasonPhrase)
        }
        return ViridianError.wrapping(error)
    }

    static func status(_ code: ViridianError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument: .badRequest
        case .notFound: .notFound
        case .permissionDenied: .forbidden
        case .alreadyExists, .conflict, .invalidState, .busy: .conflict
        case .missingDependency, .unavailable: .serviceUnavailable
        case .timeout: .gatewayTimeout
        case .cancelled: .init(code: 499, reasonPhrase: "Cancelled")
        case .engineFailure, .notResponding: .badGateway
        default: .internalServerError
        }
    }

    static func missingParameter(_ name: String) -> ViridianError {
        ViridianError(.invalidArgument, "the query parameter '\(name)' is required")
    }
}
