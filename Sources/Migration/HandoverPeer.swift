import Peers

/// The destination as the handover talks to it: commit, ask for the recorded outcome, discard.
/// `PeerClient` speaks it over mutual TLS; unit tests of the handover rules use fakes.
package protocol HandoverPeer: Sendable {
    /// `POST /peer/v1/incoming/{id}/commit`: take the VM over (and let it run, with `resume`).
    func commit(_ moveID: String, resume: Bool) async throws -> IncomingStatus
    /// `GET /peer/v1/incoming/{id}`: what the destination recorded about the move.
    func status(_ moveID: String) async throws -> IncomingStatus
    /// `DELETE /peer/v1/incoming/{id}`: let go of a move that was never committed.
    func discard(_ moveID: String) async throws
}

extension PeerClient: HandoverPeer {
    package func commit(_ moveID: String, resume: Bool) async throws -> IncomingStatus {
        try await call(.POST, "/peer/v1/incoming/\(moveID)/commit", body: CommitRequest(resume: resume), timeout: .seconds(60))
    }

    package func status(_ moveID: String) async throws -> IncomingStatus {
        try await call(.GET, "/peer/v1/incoming/\(moveID)", timeout: .seconds(10))
    }

    package func discard(_ moveID: String) async throws {
        let _: IncomingStatus = try await call(.DELETE, "/peer/v1/incoming/\(moveID)", timeout: .seconds(10))
    }
}
