/// Whether a process's command line is a given VM's QEMU worker, as `QEMUCommandLine` builds it.
public enum WorkerIdentity {
    /// True when `arguments` carry the VM's id as `-uuid` and its pid file as `-pidfile` (both
    /// written by `QEMUCommandLine`; no other process has that pair).
    public static func matches(_ arguments: [String], paths: WorkerPaths) -> Bool {
         value(of: "-uuid", in: arguments) == paths.vmID && value(of: "-pidfile", in: arguments) == paths.pidFile
    }

    private static func value(of option: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: option), arguments.indices.contains(index + 1) else { return nil }
        return arguments[index + 1]
    }
}
