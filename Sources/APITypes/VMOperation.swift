/// What a VM is busy with. A VM runs one operation at a time: while one runs, a request that
/// would change the VM is refused with `busy`, naming this operation and its job.
public struct VMOperation: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The operations that hold a VM.
    public enum Kind: String, Codable, Sendable {
        case starting, restoring, stopping, saving, pausing, resuming, restarting
        case moving, movingStorage, changingDrives, changingAdapters, changingIntegration
        case checkpointing, applyingCheckpoint, removingCheckpoint, exportingCheckpoint
        case backingUp, restoringBackup, exportingBackup
        case shielding
        /// The host is shutting down and applies the VM's automatic stop action.
        case hostShutdown
    }

    public var kind: Kind
    /// The job that carries the operation, when it is a job.
    public var jobID: String?

    public init(_ kind: Kind, jobID: String? = nil) {
        self.kind = kind
        self.jobID = jobID
    }

    /// `saving (job 1a2b3c4d)`: what `viridian jobs` prints as the job's short id.
    public var description: String {
        let words = kind.rawValue.reduce(into: "") { text, character in
            text += character.isUppercase ? " " + character.lowercased() : String(character)
        }
        return jobID.map { "\(words) (job \($0.prefix(8)))" } ?? words
    }
}
