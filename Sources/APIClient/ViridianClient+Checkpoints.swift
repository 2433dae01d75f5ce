import APITypes
import Foundation

/// Typed calls for checkpoints.
extension ViridianClient {
    public func checkpoints(_ vm: String) async throws -> [CheckpointInfo] {
        try await call(.GET, "/v1/vms/\(escape(vm))/checkpoints")
    }
    public func createCheckpoint(_ vm: String, _ request: NewCheckpointRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/checkpoints", body: request, as: JobReference.self).job
    }
    public func applyCheckpoint(_ vm: String, _ checkpoint: String) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/checkpoints/\(escape(checkpoint))/apply", as: JobReference.self).job
    }
    public func exportCheckpoint(_ vm: String, _ checkpoint: String, to directory: String) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/checkpoints/\(escape(checkpoint))/export",
                       body: ExportCheckpointRequest(destinationPath: directory), as: JobReference.self).job
    }
    public func importVM(_ request: ImportVMRequest) async throws -> VMInfo {
        try await call(.POST, "/v1/vms/import", body: request)
    }
    public func renameCheckpoint(_ vm: String, _ checkpoint: String, to name: String) async throws -> CheckpointInfo {
        try await call(.PATCH, "/v1/vms/\(escape(vm))/checkpoints/\(escape(checkpoint))", body: RenameCheckpointRequest(name: name))
    }
    public func removeCheckpoint(_ vm: String, _ checkpoint: String, subtree: Bool) async throws -> JobInfo {
        try await call(.DELETE, "/v1/vms/\(escape(vm))/checkpoints/\(escape(checkpoint))", query: ["subtree": subtree ? "true" : nil],
                       as: JobReference.self).job
    }
}
