import APITypes
import Foundation

/// Typed calls for backups.
extension ViridianClient {
    public func backUp(_ vm: String, _ request: BackupRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/backup", body: request, as: JobReference.self).job
    }
    public func startBackupExport(_ vm: String, _ request: BackupExportRequest) async throws -> BackupExportInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/backup/export", body: request)
    }
    public func backupExport(_ vm: String) async throws -> BackupExportInfo {
        try await call(.GET, "/v1/vms/\(escape(vm))/backup/export")
    }
    public func stopBackupExport(_ vm: String, discard: Bool) async throws -> BackupExportInfo {
        try await call(.DELETE, "/v1/vms/\(escape(vm))/backup/export", query: ["discard": discard ? "true" : nil])
    }
    public func backups(in path: String, vm: String? = nil) async throws -> [BackupPointInfo] {
        try await call(.GET, "/v1/backups", query: ["path": path, "vm": vm])
    }
    public func verifyBackups(_ request: VerifyBackupRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/backups/verify", body: request, as: JobReference.self).job
    }
    public func restoreBackup(_ request: RestoreBackupRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/backups/restore", body: request, as: JobReference.self).job
    }
    public func pruneBackups(_ request: PruneBackupRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/backups/prune", body: request, as: JobReference.self).job
    }
}
