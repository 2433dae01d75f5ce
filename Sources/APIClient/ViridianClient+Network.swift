import APITypes
import Foundation

/// Typed calls for virtual switches and VM network adapters.
extension ViridianClient {
    public func switches() async throws -> [VirtualSwitchInfo] { try await call(.GET, "/v1/switches") }
    public func virtualSwitch(_ name: String) async throws -> VirtualSwitchInfo { try await call(.GET, "/v1/switches/\(escape(name))") }
    public func createSwitch(_ request: NewSwitchRequest) async throws -> VirtualSwitchInfo {
        try await call(.POST, "/v1/switches", body: request)
    }
    public func setSwitch(_ name: String, _ request: SetSwitchRequest) async throws -> VirtualSwitchInfo {
        try await call(.PATCH, "/v1/switches/\(escape(name))", body: request)
    }
    public func removeSwitch(_ name: String) async throws {
        _ = try await send(.DELETE, "/v1/switches/\(escape(name))")
    }
    public func networkAdapters(_ vm: String) async throws -> [NetworkAdapterInfo] { try await call(.GET, "/v1/vms/\(escape(vm))/nics") }
    public func addNetworkAdapter(_ vm: String, _ request: AddNetworkAdapterRequest) async throws -> NetworkAdapterInfo {
        try await call(.POST, "/v1/vms/\(escape(vm))/nics", body: request)
    }
    public func setNetworkAdapter(_ vm: String, index: Int, _ request: SetNetworkAdapterRequest) async throws -> NetworkAdapterInfo {
        try await call(.PATCH, "/v1/vms/\(escape(vm))/nics/\(index)", body: request)
    }
    public func removeNetworkAdapter(_ vm: String, index: Int) async throws {
        _ = try await send(.DELETE, "/v1/vms/\(escape(vm))/nics/\(index)")
    }
}
