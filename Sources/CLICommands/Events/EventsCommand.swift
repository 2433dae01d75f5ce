import APITypes
import ArgumentParser

/// `viridian events [--vm NAME] [--level warning] [--since TIME]`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Read the event log.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Only this VM's events.") var vm: String?
    @Option(help: "Minimum level: information, warning or error.") var level: EventLevel?
    @Option(help: "Since a time (ISO 8601) or an age (15m, 2h, 7d).") var since: String?
    @Option(help: "At most this many (newest).") var limit: Int?

    func run() async throws {
        let events = try await options.client.events(vm: vm, level: level, since: since, limit: limit)
        if options.json { return try Output.json(events) }
        Output.table(["TIME", "LEVEL", "SOURCE", "VM", "MESSAGE"], events.map {
            [Output.time($0.time), $0.level.rawValue, $0.source.rawValue, $0.vm ?? "-", $0.message]
        })
    }
}

extension EventLevel: ExpressibleByArgument {}
