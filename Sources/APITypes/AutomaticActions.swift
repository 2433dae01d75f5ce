/// What the host does with a VM when it shuts down and when it comes back, as Hyper-V's
/// `AutomaticStopAction` and `AutomaticStartAction` (with `AutomaticStartDelay`).
public struct AutomaticActions: Codable, Sendable, Equatable {
    /// What happens to a running VM when the host shuts down.
    public enum StopAction: String, Codable, Sendable, CaseIterable {
        /// Save its memory; it resumes where it was (Hyper-V's default).
        case save = "Save"
        /// Shut the guest down through its shutdown service or the ACPI power button.
        case shutDown = "ShutDown"
        /// Pull the plug.
        case turnOff = "TurnOff"
    }

    /// What happens to the VM when the host (viridiand) starts.
    public enum StartAction: String, Codable, Sendable, CaseIterable {
        case nothing = "Nothing"
        /// Start it when it was running as the host went down (Hyper-V's default).
        case startIfRunning = "StartIfRunning"
        /// Always start it.
        case start = "Start"
    }

    /// The longest start delay accepted, in seconds (one hour).
    public static let maxStartDelaySeconds = 3600

    public var stopAction: StopAction
    public var startAction: StartAction
    /// Seconds to wait after the host starts before starting the VM (spreads the boot storm).
    public var startDelaySeconds: Int

    public init(stopAction: StopAction = .save, startAction: StartAction = .startIfRunning, startDelaySeconds: Int = 0) {
        self.stopAction = stopAction
        self.startAction = startAction
        self.startDelaySeconds = startDelaySeconds
    }
}

extension AutomaticActions.StopAction {
    /// The CLI's spelling: `save`, `shut-down`, `turn-off`.
    public var cliName: String { CLISpelling.kebab(rawValue) }
}

extension AutomaticActions.StartAction {
    /// The CLI's spelling: `nothing`, `start-if-running`, `start`.
    public var cliName: String { CLISpelling.kebab(rawValue) }
}

/// Hyper-V's PascalCase names as the CLI spells them.
enum CLISpelling {
    static func kebab(_ pascal: String) -> String {
        pascal.enumerated().reduce(into: "") { text, item in
            if item.element.isUppercase, item.offset > 0 { text += "-" }
            text += item.element.lowercased()
        }
    }
}
