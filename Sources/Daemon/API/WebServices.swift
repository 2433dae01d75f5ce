import WebConsole

/// What the web listener keeps while it runs: sessions, the sign-in limit and check, the assets,
/// and the request-duration counters of `/metrics`.
struct WebServices: Sendable {
    let sessions = WebSessions()
    let limiter = LoginRateLimiter()
    let assets = WebAssets()
    let exposition: MetricsExposition
    let tokens: APITokens
    let authenticator: PAMAuthenticator
    var gate: WebGate { WebGate(sessions: sessions, tokens: tokens) }

    init(host: ViridianHost) {
        tokens = host.tokens
        exposition = host.exposition
        authenticator = PAMAuthenticator(groupName: HostAccess.groupName)
    }
}
