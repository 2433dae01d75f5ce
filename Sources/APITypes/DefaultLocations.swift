import Foundation

/// Where Viridian keeps things when not told otherwise; shared by viridiand and the CLI.
public enum DefaultLocations {
    /// `/var/lib/viridian` as root, else `$XDG_DATA_HOME/viridian` (or `~/.local/share/viridian`).
    public static var stateDirectory: String {
        if getuid() == 0 { return "/var/lib/viridian" }
        let environment = ProcessInfo.processInfo.environment
        return "\(environment["XDG_DATA_HOME"] ?? "\(NSHomeDirectory())/.local/share")/viridian"
    }

    /// `$VIRIDIAN_CACHE_DIR`, else `/var/cache/viridian` as root, else `$XDG_CACHE_HOME/viridian`.
    public static var cacheDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let override = environment["VIRIDIAN_CACHE_DIR"] { return override }
        if getuid() == 0 { return "/var/cache/viridian" }
        return "\(environment["XDG_CACHE_HOME"] ?? "\(NSHomeDirectory())/.cache")/viridian"
    }

    /// The API socket inside a state directory.
    public static func socket(stateDirectory: String) -> String { "\(stateDirectory)/viridiand.sock" }

    /// The socket the CLI talks to: `$VIRIDIAN_HOST`, else the default state directory's.
    public static var clientSocket: String {
        ProcessInfo.processInfo.environment["VIRIDIAN_HOST"] ?? socket(stateDirectory: stateDirectory)
    }
}
