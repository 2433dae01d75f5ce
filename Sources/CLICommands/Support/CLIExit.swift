import APITypes

/// The CLI's exit codes, so scripts can tell failures apart.
public enum CLIExit {
    /// 1 failed, 3 daemon not reachable, 4 not found, 5 wrong state or in use, 6 timed out or cancelled,
    /// 7 not permitted to drive the daemon, 8 a guest or peer host did not answer (2 is a usage error).
    public static func code(for error: ViridianError) -> Int32 {
        switch error.code {
        case .unavailable: 3
        case .notFound: 4
        case .invalidState, .conflict, .alreadyExists, .busy: 5
        case .timeout, .cancelled: 6
        case .permissionDenied: 7
        case .notResponding: 8
        default: 1
        }
    }
}
