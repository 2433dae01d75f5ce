import APIClient
import APITypes
import ArgumentParser

/// Options every command takes: which daemon, and JSON output.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The viridiand socket to talk to.", discussion: "Default: $VIRIDIAN_HOST, else the default state directory's viridiand.sock."))
    var host: String?

    @Flag(name: .long, help: "Print JSON for scripts instead of a table.")
    var json = false

    public init() {}

    var client: ViridianClient { ViridianClient(socketPath: host ?? DefaultLocations.clientSocket) }
}

/// Options of commands that start a job.
struct JobOptions: ParsableArguments {
    @Flag(name: .long, help: "Return the job at once instead of waiting for it.")
    var noWait = false
}
