import APITypes
import Foundation

/// Typed calls for peers, host settings and moves.
extension ViridianClient {
    public func hostCertificate() async throws -> HostCertificate { try await call(.GET, "/v1/host/certificate") }
    public func peers(check: Bool) async throws -> [PeerInfo] {
        try await call(.GET, "/v1/host/peers", query: ["check": check ? "true" : nil])
    }
    public func addPeer(_ request: AddPeerRequest) async throws -> PeerInfo { try await call(.POST, "/v1/host/peers", body: request) }
    public func removePeer(_ name: String) async throws {
        _ = try await send(.DELETE, "/v1/host/peers/\(escape(name))")
    }
    public func hostSettings() async throws -> HostSettings { try await call(.GET, "/v1/host/settings") }
    public func setHostSettings(_ request: SetHostSettingsRequest) async throws -> HostSettings {
        try await call(.PATCH, "/v1/host/settings", body: request)
    }
    public func drain(_ request: DrainRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/host/drain", body: request, as: JobReference.self).job
    }
    public func drainStatus() async throws -> DrainStatus { try await call(.GET, "/v1/host/drain") }
    public func moveVM(_ name: String, _ request: MoveVMRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(name))/move", body: request, as: JobReference.self).job
    }
    public func moveStorage(_ name: String, _ request: MoveStorageRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(name))/move-storage", body: request, as: JobReference.self).job
    }
}
