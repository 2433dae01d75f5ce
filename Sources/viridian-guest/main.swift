import AgentProtocol
import ArgumentParser
import FoundationEssentials
import GuestAgent

/// `viridian-guest`: the Viridian integration services agent, run inside the guest.
struct GuestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viridian-guest",
        abstract: "Viridian integration services agent (runs inside the guest).",
        subcommands: [Run.self, Version.self, Health.self, KVP.self, Install.self, UpdateWatchdog.self],
        defaultSubcommand: Run.self)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the integration service ports (the service's main process).")

    func run() throws {
        AgentSupervisor(paths: GuestPaths()).run()
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print this agent's integration services release.")

    func run() {
        print(AgentRelease.current)
    }
}

struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report application health to the host's heartbeat status.",
        subcommands: [Set.self, Show.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the health: ok, or degraded with a reason.")
        @Argument(help: "ok or degraded") var health: String
        @Argument(help: "Why the applications are degraded.") var reason: String?

        func run() throws {
            guard let value = GuestHealth(rawValue: health) else {
                throw ValidationError("health must be ok or degraded")
            }
            let paths = GuestPaths()
            try FileManager.default.createDirectory(atPath: paths.runtime, withIntermediateDirectories: true)
            let data = try JSONEncoder().encode(HealthReport(health: value, reason: value == .ok ? nil : reason))
            try data.write(to: URL(fileURLWithPath: paths.healthFile), options: .atomic)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the health reported to the host.")

        func run() throws {
            let data = FileManager.default.contents(atPath: GuestPaths().healthFile)
            let report = data.flatMap { try? JSONDecoder().decode(HealthReport.self, from: $0) }
            print(report.map { "\($0.health.rawValue)\($0.reason.map { ": \($0)" } ?? "")" } ?? "ok")
        }
    }
}

struct KVP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvp", abstract: "Read and write Data Exchange (KVP) items.",
        subcommands: [Set.self, Remove.self, List.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an item in the guest's pool (the host sees it).")
        @Argument var key: String
        @Argument var value: String

        func run() throws {
            if let violation = KVPLimits.violation(key: key, value: value) { throw ValidationError(violation) }
            let path = GuestPaths().guestPoolFile
            var items = KVPPool.read(path)
            guard items[key] != nil || items.count < KVPLimits.maximumItems else {
                throw ValidationError("the guest pool holds at most \(KVPLimits.maximumItems) items")
            }
            items[key] = value
            try KVPPool.write(items, to: path)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an item from the guest's pool.")
        @Argument var key: String

        func run() throws {
            let path = GuestPaths().guestPoolFile
            var items = KVPPool.read(path)
            guard items.removeValue(forKey: key) != nil else { throw ValidationError("no item '\(key)' in the guest pool") }
            try KVPPool.write(items, to: path)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a pool: guest (ours) or host (what the host sent).")
        @Option(help: "guest or host") var pool = "guest"

        func run() throws {
            let paths = GuestPaths()
            guard ["guest", "host"].contains(pool) else { throw ValidationError("pool must be guest or host") }
            let items = KVPPool.read(pool == "host" ? paths.hostPoolFile : paths.guestPoolFile)
            for key in items.keys.sorted() { print("\(key)=\(items[key] ?? "")") }
        }
    }
}

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install or upgrade the agent from a binary, restarting it without a reboot.")
    @Option(help: "The new agent binary.") var source: String
    @Option(help: "Where the agent is installed.") var target = "/usr/sbin/viridian-guest"
    @Flag(help: "Reinstall even if the installed release is the same or newer.") var force = false

    func run() throws {
        let installer = AgentInstaller(paths: GuestPaths(), target: target)
        print("installed: \(AgentInstaller.release(of: target) ?? "none")")
        do {
            switch try installer.install(source: source, force: force) {
            case .upToDate(let installed, let offered):
                print("offered: \(offered)\nup to date (\(installed)); nothing to do (--force reinstalls)")
            case .installing(_, let release):
                print("offered: \(release)\ninstalling \(release); the agent restarts now")
            }
        } catch let error as InstallError {
            throw ValidationError(error.description)
        }
    }
}

struct UpdateWatchdog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-watchdog", abstract: "Restart the agent and roll back if it does not come up.",
        shouldDisplay: false)
    @Option var expect: String
    @Option var target: String

    func run() throws {
        let succeeded = AgentInstaller(paths: GuestPaths(), target: target).watch(expecting: expect)
        if !succeeded { throw ExitCode.failure }
    }
}

GuestCommand.main()
