import CGuestSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A process the agent started, with the host ends of its standard streams.
struct LaunchedProcess {
    var pid: pid_t
    /// Where standard input goes (the pty master when a terminal was asked for).
    var input: Int32
    var output: Int32
    /// Standard error; nil with a terminal, where it shares the pty with standard output.
    var error: Int32?
}

/// Starts guest processes with `posix_spawnp`, on pipes or on a fresh pseudo-terminal.
enum ProcessLauncher {
    private static let spawnSetSID: Int16 = 0x80
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Starts `arguments` with its streams on pipes, or on a pty of `columns`×`rows` when `terminal`.
    static func launch(_ arguments: [String], terminal: Bool, columns: Int, rows: Int,
                       environment: [String: String]) throws(SystemError) -> LaunchedProcess {
        guard let program = arguments.first, !program.isEmpty else { throw SystemError(operation: "exec", code: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | spawnSetSID)

        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        let process: LaunchedProcess
        if terminal {
            let terminalPair = try Pseudoterminal.open(columns: columns, rows: rows)
            childEnds.append(terminalPair.slave)
            parentEnds.append(terminalPair.master)
            // After setsid the first terminal opened becomes the controlling one.
            posix_spawn_file_actions_addopen(&actions, 0, terminalPair.slavePath, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
            process = LaunchedProcess(pid: 0, input: terminalPair.master, output: terminalPair.master, error: nil)
        } else {
            let input = try makePipe(), output = try makePipe(), error = try makePipe()
            childEnds += [input.read, output.write, error.write]
            parentEnds += [input.write, output.read, error.read]
            posix_spawn_file_actions_adddup2(&actions, input.read, 0)
            posix_spawn_file_actions_adddup2(&actions, output.write, 1)
            posix_spawn_file_actions_adddup2(&actions, error.write, 2)
            process = LaunchedProcess(pid: 0, input: input.write, output: output.read, error: error.read)
        }
        var merged = ["PATH": defaultPath, "HOME": "/root", "TERM": terminal ? "xterm-256color" : "dumb"]
        merged.merge(environment) { _, new in new }
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(merged.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            parentEnds.forEach { close($0) }
            throw SystemError(operation: "exec \(program)", code: result)
        }
        var started = process
        started.pid = pid
        return started
    }

    /// Where detached programs write their output.
    static let detachedLog = "/var/log/viridian-guest.log"

    /// Starts `arguments` in a session of its own with its output appended to `detachedLog`
    /// (used for poweroff and agent restarts, which must outlive the agent).
    static func spawnDetached(_ arguments: [String]) throws(SystemError) {
        let wrapped = ["/bin/sh", "-c", "exec \"$@\" </dev/null >>\(detachedLog) 2>&1", "sh"] + arguments
        let process = try launch(wrapped, terminal: false, columns: 80, rows: 24, environment: [:])
        close(process.input)
        close(process.output)
        if let error = process.error { close(error) }
        startThread("reap") { _ = waitExitCode(process.pid) }
    }

    /// Waits for `pid` and returns its exit status, or 128 + signal.
    static func waitExitCode(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        let low = status & 0x7f
        return low == 0 ? (status >> 8) & 0xff : 128 + low
    }

    private static func makePipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard viridian_pipe_cloexec(&ends) == 0 else { throw SystemError(operation: "pipe", code: errno) }
        return (ends[0], ends[1])
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        // Never empty (it ends with the nil terminator), so the base address exists.
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
