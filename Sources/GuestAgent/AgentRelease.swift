import AgentProtocol

/// The release this agent reports in every negotiation.
public enum AgentRelease {
    #if VIRIDIAN_LEGACY_AGENT
    /// A deliberately old build, used to exercise version management (`scripts/build-guest-agent.sh --legacy`).
    public static let current = "0.1.0"
    #else
    public static let current = Release.current
    #endif

    /// The agent's name in negotiation, shown by `viridian vm ic`.
    public static let agentName = IntegrationService.viridianAgentName
}
