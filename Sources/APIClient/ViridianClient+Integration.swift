import AgentProtocol
import APITypes
import Foundation

/// Typed calls for the integration services.
extension ViridianClient {
    public func integrationServices(_ vm: String) async throws -> [IntegrationServiceStatus] {
        try await call(.GET, "/v1/vms/\(escape(vm))/integration-services")
    }
    public func setIntegrationService(_ vm: String, _ service: String, enabled: Bool) async throws -> [IntegrationServiceStatus] {
        try await call(.PUT, "/v1/vms/\(escape(vm))/integration-services/\(escape(service))",
                       body: SetIntegrationServiceRequest(enabled: enabled))
    }
    public func kvp(_ vm: String) async throws -> KVPItems { try await call(.GET, "/v1/vms/\(escape(vm))/kvp") }
    public func changeKVP(_ vm: String, _ change: KVPChangeRequest) async throws -> KVPItems {
        try await call(.PATCH, "/v1/vms/\(escape(vm))/kvp", body: change)
    }
    public func freeze(_ vm: String, timeoutSeconds: Int?) async throws -> FreezeResult {
        try await call(.POST, "/v1/vms/\(escape(vm))/freeze", body: FreezeVMRequest(timeoutSeconds: timeoutSeconds))
    }
    public func thaw(_ vm: String) async throws -> FreezeResult { try await call(.POST, "/v1/vms/\(escape(vm))/thaw") }
    public func copyFile(_ vm: String, _ request: CopyFileRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/copy-file", body: request, as: JobReference.self).job
    }
    public func insertIntegrationDisk(_ vm: String) async throws -> JobInfo {
        try await jobCall("/v1/vms/\(escape(vm))/integration-disk")
    }
    public func integrationReport() async throws -> [IntegrationReportEntry] { try await call(.GET, "/v1/integration/report") }
    public func updateIntegration(_ request: IntegrationUpdateRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/integration/update", body: request, as: JobReference.self).job
    }
    public func integrationUpdateResults(job: String) async throws -> [IntegrationUpdateResult] {
        try await call(.GET, "/v1/integration/update/\(escape(job))")
    }
}
