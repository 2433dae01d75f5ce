import APITypes
import ArgumentParser
import Foundation

/// `viridian host certificate`: this host's CA certificate, for peers to trust.
struct HostCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate", abstract: "Print this host's certificate (PEM) to give to peers.",
        discussion: "On the peer: viridian host peer add THIS-HOST --address ADDR:PORT --certificate FILE")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let certificate = try await options.client.hostCertificate()
        if options.json { return try Output.json(certificate) }
        print(certificate.certificate, terminator: certificate.certificate.hasSuffix("\n") ? "" : "\n")
    }
}

/// `viridian host peer add|list|remove`.
struct HostPeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Hosts this host trusts for migration.", subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust a peer: its migration listener and its certificate.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A name for the peer (used by vm move --to).") var name: String
        @Option(help: "The peer's migration listener, ADDR:PORT.") var address: String
        @Option(help: "A file with the peer's certificate (viridian host certificate on the peer).") var certificate: String

        func run() async throws {
            guard let text = try? String(contentsOfFile: absolute(certificate), encoding: .utf8) else {
                throw ViridianError(.notFound, "cannot read the certificate file \(certificate)")
            }
            let peer = try await options.client.addPeer(AddPeerRequest(name: name, address: address, certificate: text))
            if options.json { return try Output.json(peer) }
            print("Peer '\(peer.name)' at \(peer.address) is trusted (certificate SHA-256 \(peer.fingerprint)).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List peers and whether each answers.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Do not contact the peers.") var noCheck = false

        func run() async throws {
            let peers = try await options.client.peers(check: !noCheck)
            if options.json { return try Output.json(peers) }
            Output.table(["NAME", "ADDRESS", "STATUS", "VERSION", "CERTIFICATE"], peers.map { peer in
                [peer.name, peer.address, peer.status ?? "-", peer.reportedVersion ?? "-", String(peer.fingerprint.prefix(16))]
            })
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop trusting a peer.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The peer's name.") var name: String

        func run() async throws {
            try await options.client.removePeer(name)
            if !options.json { print("Peer '\(name)' is no longer trusted.") }
        }
    }
}

/// `viridian host set` (Set-VMHost): migration limits, networks, memory reserve.
struct HostSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change host settings: migration, memory, how much history is kept.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Simultaneous live migrations; more queue (default 2).") var maxMigrations: Int?
    @Option(help: "Simultaneous storage migrations; more queue (default 2).") var maxStorageMigrations: Int?
    @Option(help: "Migration networks in preference order, CIDR,CIDR; \"\" for any network.") var migrationNetworks: String?
    @Option(help: "Memory kept for the host: 512M, 2G (a bare number is MiB; default 512M).") var memoryReserve: String?
    @Option(help: "Events kept: the newest COUNT (default 100000).") var keepEvents: Int?
    @Option(help: "Events kept: none older than DAYS (default 90).") var keepEventsDays: Int?
    @Option(help: "Finished jobs kept: the newest COUNT (default 10000).") var keepJobs: Int?
    @Option(help: "Finished jobs kept: none older than DAYS (default 30).") var keepJobsDays: Int?

    func run() async throws {
        let networks = migrationNetworks.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        let settings = try await options.client.setHostSettings(SetHostSettingsRequest(
            maxMigrations: maxMigrations, maxStorageMigrations: maxStorageMigrations, migrationNetworks: networks,
            memoryReserveMiB: try memoryReserve.map(ByteSize.parseMiB), keepEvents: keepEvents, keepEventsDays: keepEventsDays,
            keepJobs: keepJobs, keepJobsDays: keepJobsDays))
        if options.json { return try Output.json(settings) }
        Output.fields([("Max migrations", String(settings.maxMigrations)), ("Max storage migrations", String(settings.maxStorageMigrations)),
                       ("Migration networks", settings.migrationNetworks.isEmpty ? "any" : settings.migrationNetworks.joined(separator: ", ")),
                       ("Memory reserve", "\(settings.memoryReserveMiB) MiB"),
                       ("Events kept", "newest \(settings.events.maxCount), at most \(settings.events.maxAgeDays) days"),
                       ("Jobs kept", "newest \(settings.jobs.maxCount), at most \(settings.jobs.maxAgeDays) days")])
    }
}

/// `viridian host drain [--status]`: move every VM to the peers for maintenance.
struct HostDrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drain", abstract: "Move every VM to the peers (maintenance), or show the last drain.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @Flag(help: "Show the current or last drain instead of starting one.") var status = false
    @Option(name: .customLong("peer"), help: "A peer to use (repeat); default: every peer.") var peers: [String] = []

    func run() async throws {
        if status {
            let drain = try await options.client.drainStatus()
            if options.json { return try Output.json(drain) }
            guard let job = drain.job else { return print("This host was not drained since viridiand started.") }
            print("\(job.description): \(job.state.rawValue) \(job.percentComplete)% \(job.error?.message ?? job.statusMessage ?? "")")
            Output.table(["VM", "STATE", "%", "MESSAGE"], drain.moves.map { move in
                [move.vm ?? "-", move.state.rawValue, String(move.percentComplete), move.error?.message ?? move.statusMessage ?? ""]
            })
            return
        }
        try await JobRunner.run(options, jobOptions, start: {
            try await options.client.drain(DrainRequest(peers: peers.isEmpty ? nil : peers))
        }) { job in
            print("Drained: \(job.statusMessage ?? "done").")
        }
    }
}
