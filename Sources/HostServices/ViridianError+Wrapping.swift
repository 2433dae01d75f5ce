import AgentProtocol
import APITypes
import IntegrationServices
import QMP

extension ViridianError {
    /// Any error as a ViridianError: cancellation becomes `cancelled`, QMP errors `engineFailure`.
    package static func wrapping(_ error: any Error) -> ViridianError {
        switch error {
        case let error as ViridianError: error
        case is CancellationError: ViridianError(.cancelled, "the operation was cancelled")
        case let error as QMPError:
            if case .blockJobsTimedOut = error { ViridianError(.timeout, error.description) } else { ViridianError(.engineFailure, error.description) }
        case let error as AgentConnectionError:
            if case .timeout = error { ViridianError(.timeout, error.description) } else { ViridianError(.notResponding, error.description) }
        case let error as AgentProtocolError: ViridianError(.engineFailure, "the guest broke the protocol: \(error)")
        default: ViridianError(.internalError, "\(error)")
        }
    }
}
