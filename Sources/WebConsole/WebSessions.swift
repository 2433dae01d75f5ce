import Foundation
import Synchronization

/// The web console's signed-in sessions, in memory (a daemon restart signs everyone out). A
/// session ends after `idleLimit` without a request or `lifetime` after sign-in; at most
/// `capacity` live at once, the least recently used giving way. Each carries the CSRF token every
/// change must echo in `X-CSRF-Token`.
public final class WebSessions: Sendable {
    public struct Session: Sendable, Equatable {
        public let id: String
        public let user: String
        public let csrfToken: String
        let created: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
    }

    public static let cookieName = "viridian_session"
    public let idleLimit: Duration
    public let lifetime: Duration
    public let capacity: Int
    private let sessions = Mutex<[String: Session]>([:])

    public init(idleLimit: Duration = .seconds(30 * 60), lifetime: Duration = .seconds(12 * 3600), capacity: Int = 1000) {
        self.idleLimit = idleLimit
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Opens a session for `user`.
    public func open(user: String) -> Session {
        let now = ContinuousClock.now
        let session = Session(id: Self.randomToken(), user: user, csrfToken: Self.randomToken(), created: now, lastUsed: now)
        sessions.withLock { sessions in
            sessions = sessions.filter { isLive($0.value, at: now) }
            if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastUsed < $1.lastUsed }) {
                sessions[oldest.id] = nil
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session `id` names, refreshed; nil when it ended or never was.
    public func session(_ id: String) -> Session? {
        let now = ContinuousClock.now
        return sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard isLive(session, at: now) else {
                sessions[id] = nil
                return nil
            }
            session.lastUsed = now
            sessions[id] = session
            return session
        }
    }

    public func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    public var count: Int { sessions.withLock { $0.count } }

    private func isLive(_ session: Session, at now: ContinuousClock.Instant) -> Bool {
        now - session.lastUsed < idleLimit && now - session.created < lifetime
    }

    /// 256 random bits as base64url.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
