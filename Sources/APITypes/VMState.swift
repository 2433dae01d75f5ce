/// The states of a virtual machine, named as Hyper-V names them.
public enum VMState: String, Codable, Sendable, CaseIterable {
    case off = "Off"
    case starting = "Starting"
    case running = "Running"
    case paused = "Paused"
    case saving = "Saving"
    case saved = "Saved"
    case stopping = "Stopping"
    /// Its memory is being sent to another host; it keeps running here until the switchover.
    case migrating = "Migrating"

    /// A QEMU worker process exists in this state.
    public var hasWorker: Bool {
        switch self {
        case .starting, .running, .paused, .saving, .stopping, .migrating: true
        case .off, .saved: false
        }
    }

    /// The VM is between states; settings that touch the worker wait until it settles.
    public var isTransitional: Bool {
        switch self {
        case .starting, .saving, .stopping, .migrating: true
        case .off, .running, .paused, .saved: false
        }
    }
}
