import APITypes
import ArgumentParser
import Foundation

/// `viridian events [--vm NAME] [--level warning] [--since TIME] [--follow [--jobs]]`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Read the event log, or follow it as it is written.",
        discussion: "With --follow the last events are shown, then each new one as it is recorded (and, with --jobs, each job change), until Ctrl-C. With --json each is one JSON line.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Only this VM's events.") var vm: String?
    @Option(help: "Minimum level: information, warning or error.") var level: EventLevel?
    @Option(help: "Since a time (ISO 8601) or an age (15m, 2h, 7d).") var since: String?
    @Option(help: "At most this many (newest); with --follow, how many to show before following (default 10).") var limit: Int?
    @Flag(help: "Keep following: print each event as it is recorded.") var follow = false
    @Flag(help: "With --follow, also print each job change (progress, finish).") var jobs = false

    func validate() throws {
        if jobs, !follow { throw ValidationError("--jobs goes with --follow") }
    }

    func run() async throws {
        // Subscribed before the recent events are read, so nothing between the two is missed.
        let stream = follow ? try await options.client.eventStream(vm: vm, level: level) : nil
        let events = try await options.client.events(vm: vm, level: level, since: since, limit: limit ?? (follow ? 10 : nil))
        guard let stream else {
            if options.json { return try Output.json(events) }
            Output.table(["TIME", "LEVEL", "SOURCE", "VM", "MESSAGE"], events.map {
                [Output.time($0.time), $0.level.rawValue, $0.source.rawValue, $0.vm ?? "-", $0.message + Self.byUser($0)]
            })
            return
        }
        var shown = Set(events.map(\.id))
        for event in events { try printEvent(event) }
        for try await item in stream {
            if let event = item.event, shown.insert(event.id).inserted {
                try printEvent(event)
            } else if jobs, let job = item.job {
                try printJob(job)
            }
        }
        throw ViridianError(.notResponding, "viridiand ended the event stream (it is stopping)")
    }

    private func printEvent(_ event: EventRecord) throws {
        if options.json { return try Output.jsonLine(StreamItem(event: event)) }
        print("\(Output.time(event.time))  \(event.level.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) "
              + "\(event.source.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(event.vm ?? "-")  \(event.message)\(Self.byUser(event))")
        fflush(nil)
    }

    /// Who asked for it, when a web console user or an API token did.
    private static func byUser(_ event: EventRecord) -> String {
        event.user.map { " (by \($0))" } ?? ""
    }

    private func printJob(_ job: JobInfo) throws {
        if options.json { return try Output.jsonLine(StreamItem(job: job)) }
        print("\(Output.time(Date()))  job        \(job.kind.padding(toLength: 11, withPad: " ", startingAt: 0)) \(job.vm ?? "-")  "
              + "\(job.id.prefix(8)) \(job.state.rawValue) \(job.percentComplete)% \(job.error?.message ?? job.statusMessage ?? "")")
        fflush(nil)
    }
}

extension EventLevel: ExpressibleByArgument {}
