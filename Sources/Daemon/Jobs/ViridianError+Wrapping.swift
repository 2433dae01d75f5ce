import APITypes
import QMP

extension ViridianError {
    /// Any error as a ViridianError: cancellation becomes `cancelled`, QMP errors `engineFailure`.
    static func wrapping(_ error: any Error) -> ViridianError {
        switch error {
        case let error as ViridianError: error
        case is CancellationError: ViridianError(.cancelled, "the operation was cancelled")
        case let error as QMPError: ViridianError(.engineFailure, error.description)
        default: ViridianError(.internalError, "\(error)")
        }
    }
}
