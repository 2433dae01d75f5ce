import APITypes

extension ViridianClient {
    public func apiTokens() async throws -> [APITokenInfo] { try await call(.GET, "/v1/host/tokens") }
    public func createAPIToken(_ name: String) async throws -> CreatedAPIToken {
        try await call(.POST, "/v1/host/tokens", body: CreateAPITokenRequest(name: name))
    }
    public func revokeAPIToken(_ name: String) async throws {
        _ = try await send(.DELETE, "/v1/host/tokens/\(escape(name))")
    }
}
