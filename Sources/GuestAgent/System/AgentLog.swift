#if canImport(Glibc)
import Glibc
#endif

/// The agent's log: standard error, which the init script sends to a log file or the journal.
enum AgentLog {
    static func write(_ message: String) {
        try? FileDescriptor.writeAll(2, Array("viridian-guest: \(message)\n".utf8))
    }
}
