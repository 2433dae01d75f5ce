/// Failures talking to a QEMU monitor.
public enum QMPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// QEMU answered a command with an error (`{"error": {"class", "desc"}}`).
    case commandFailed(command: String, errorClass: String, description: String)
    /// No reply within the command's timeout.
    case timeout(command: String)
    /// The monitor socket closed (QEMU exited) before the reply arrived.
    case disconnected
    /// QEMU sent something that is not QMP, or a line longer than the limit.
    case protocolViolation(String)
    /// The socket could not be opened.
    case connectionFailed(String)
    /// A block job (mirror, backup) ended with an error.
    case blockJobFailed(job: String, reason: String)
    /// Block jobs did not reach the awaited state in time.
    case blockJobsTimedOut(jobs: [String], after: Duration)

    public var description: String {
        switch self {
        case .commandFailed(let command, _, let description): "QEMU refused \(command): \(description)"
        case .timeout(let command): "QEMU did not answer \(command) in time"
        case .disconnected: "the QEMU monitor connection closed"
        case .protocolViolation(let detail): "QEMU monitor protocol error: \(detail)"
        case .connectionFailed(let detail): "cannot connect to the QEMU monitor: \(detail)"
        case .blockJobFailed(let job, let reason): "copying a disk failed (block job \(job)): \(reason)"
        case .blockJobsTimedOut(let jobs, let after): "block jobs \(jobs.joined(separator: ", ")) did not finish within \(after)"
        }
    }
}
