/// The framework versions this build speaks, oldest first.
public enum FrameworkVersion {
    public static let supported = [1]
}

/// Host → guest: sent whenever the host connects to a port; the guest answers with `Hello`.
public struct HelloRequest: AgentMessage {
    public static let type = "hello-request"
    public init() {}
}

/// Guest → host: opens negotiation on a port.
public struct Hello: AgentMessage {
    public static let type = "hello"
    /// Framework versions the guest speaks.
    public var frameworkVersions: [Int]
    public var service: String
    /// Service versions the guest speaks.
    public var serviceVersions: [Int]
    /// The guest's integration services release (`0.1.0`).
    public var release: String
    /// Which agent answers (`viridian-guest`).
    public var agent: String

    public init(frameworkVersions: [Int], service: String, serviceVersions: [Int], release: String, agent: String) {
        self.frameworkVersions = frameworkVersions
        self.service = service
        self.serviceVersions = serviceVersions
        self.release = release
        self.agent = agent
    }
}

/// Host → guest: the versions chosen (the highest both speak) and the host's release.
public struct Welcome: AgentMessage {
    public static let type = "welcome"
    public var frameworkVersion: Int
    public var serviceVersion: Int
    public var hostRelease: String

    public init(frameworkVersion: Int, serviceVersion: Int, hostRelease: String) {
        self.frameworkVersion = frameworkVersion
        self.serviceVersion = serviceVersion
        self.hostRelease = hostRelease
    }
}

/// Host → guest: no common version; the guest stays quiet on this port.
public struct Refused: AgentMessage {
    public static let type = "refused"
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// The highest version in both lists, if any.
public func highestCommonVersion(_ ours: [Int], _ theirs: [Int]) -> Int? {
    Set(ours).intersection(theirs).max()
}
