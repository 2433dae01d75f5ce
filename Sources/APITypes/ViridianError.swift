/// The one error type of Viridian: a code that clients can match on, a message a user
/// can act on, and the underlying cause when there is one.
public struct ViridianError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. A struct over a private enum, so codes can grow
    /// without breaking exhaustive switches in clients.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, CaseIterable {
            case invalidArgument, notFound, alreadyExists, invalidState, conflict
            case missingDependency, engineFailure, timeout, cancelled, unavailable, internalError, permissionDenied
            case busy, notResponding
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The request was malformed or a value is out of range.
        public static let invalidArgument = Code(.invalidArgument)
        /// The named object (VM, job, image, disk) does not exist.
        public static let notFound = Code(.notFound)
        /// An object with that name or path exists already.
        public static let alreadyExists = Code(.alreadyExists)
        /// The operation is not possible in the object's current state.
        public static let invalidState = Code(.invalidState)
        /// A resource is in use by something else (a disk attached to a running VM).
        public static let conflict = Code(.conflict)
        /// The VM is in the middle of another operation (the message names it and its job); try again when it ends.
        public static let busy = Code(.busy)
        /// A program or file Viridian needs is missing on this host.
        public static let missingDependency = Code(.missingDependency)
        /// QEMU or qemu-img failed.
        public static let engineFailure = Code(.engineFailure)
        /// A wait ran out of time.
        public static let timeout = Code(.timeout)
        /// The operation was cancelled.
        public static let cancelled = Code(.cancelled)
        /// The daemon cannot be reached (only the client reports this).
        public static let unavailable = Code(.unavailable)
        /// A guest's integration service or a peer host did not answer, or went away mid-request.
        public static let notResponding = Code(.notResponding)
        /// The caller may not drive viridiand (not root, not in the `viridian` group).
        public static let permissionDenied = Code(.permissionDenied)
        /// A bug or an unexpected host failure.
        public static let internalError = Code(.internalError)

        /// The stable wire name of the code (`"notFound"`).
        public var description: String { value.rawValue }

        /// Parses a wire name; unknown names become `internalError`.
        public init(wireName: String) { self.value = Value(rawValue: wireName) ?? .internalError }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message) (\(cause))"
    }
}

/// The JSON body of every error response of the API.
public struct ErrorResponse: Codable, Sendable {
    public struct Body: Codable, Sendable {
        public var code: String
        public var message: String
    }
    public var error: Body

    /// The wire form of `error`: its code and message. The cause stays in the daemon's log: it can
    /// hold a library's internals (types, source locations), never meant for a client.
    public init(_ error: ViridianError) {
        self.error = Body(code: error.code.description, message: error.message)
    }

    /// The error this response describes.
    public var viridianError: ViridianError { ViridianError(.init(wireName: error.code), error.message) }
}
