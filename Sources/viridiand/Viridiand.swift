import APITypes
import ArgumentParser
import Daemon
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// viridiand: the Viridian management service for this host (Hyper-V's VMMS).
@main
struct Viridiand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viridiand",
        abstract: "The Viridian management service: runs VMs on QEMU and serves the API on a unix socket.",
        discussion: "QEMU workers keep running when viridiand stops; on start it re-attaches to them.")

    @Option(help: "State directory (inventory, VM folders, disks). Default: /var/lib/viridian as root, else $XDG_DATA_HOME/viridian.")
    var stateDir: String?

    @Option(help: "The API's unix socket. Default: <state-dir>/viridiand.sock.")
    var socket: String?

    @Option(help: "Cache for downloaded packages and built images. Default: /var/cache/viridian as root, else $XDG_CACHE_HOME/viridian.")
    var cacheDir: String?

    @Option(help: "Accelerator: auto (probe), kvm or tcg.")
    var accelerator: String = "auto"

    @Option(help: "The guest agent bundle (scripts/build-guest-agent.sh). Default: $VIRIDIAN_GUEST_AGENT_DIR, .build/guest beside the binary, /usr/lib/viridian/guest.")
    var guestAgentDir: String?

    @Option(help: "This host's name among peers; its certificate names it. Default: the system's host name.")
    var hostName: String?

    @Option(help: "Accept moves from peers on ADDR:PORT (mutual TLS; 0.0.0.0 for every network). Default: no incoming moves.")
    var migrationListen: String?

    @Option(help: "Serve the web console, the REST API (for API tokens) and /metrics over HTTPS on ADDR:PORT (127.0.0.1:8443). Default: off.")
    var webListen: String?

    @Option(help: "The web listener's certificate chain (PEM). Default: this host's certificate, issued by its CA.")
    var webCertificate: String?

    @Option(help: "The private key (PEM) of --web-certificate.")
    var webKey: String?

    @Option(help: "Close a connection that is idle, or whose request stops half-way, after this many seconds (1-3600).")
    var connectionIdleTimeout: Int = 60

    @Option(help: "Connections the API socket holds at once (beyond it, new ones are closed).")
    var maxApiConnections: Int = 512

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        HostAccess.applyUmask()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "viridiand")
        let forced: Accelerator?
        switch accelerator {
        case "auto": forced = nil
        case "kvm": forced = .kvm
        case "tcg": forced = .tcg
        default: throw ValidationError("--accelerator must be auto, kvm or tcg")
        }
        guard (1...3600).contains(connectionIdleTimeout) else { throw ValidationError("--connection-idle-timeout must be 1 to 3600 seconds") }
        guard (1...65536).contains(maxApiConnections) else { throw ValidationError("--max-api-connections must be 1 to 65536") }
        guard (webCertificate == nil) == (webKey == nil) else { throw ValidationError("--web-certificate and --web-key go together") }
        let webAddress = try webListen.map { try HostPort(parsing: $0) }
        let webCertificateFiles = try webCertificate.map { try WebCertificate(certificateFile: absolute($0), keyFile: absolute(webKey ?? "")) }
        let stateDirectory = absolute(stateDir ?? DefaultLocations.stateDirectory)
        let configuration = DaemonConfiguration(
            stateDirectory: stateDirectory,
            socketPath: absolute(socket ?? DefaultLocations.socket(stateDirectory: stateDirectory)),
            cacheDirectory: absolute(cacheDir ?? DefaultLocations.cacheDirectory),
            accelerator: forced,
            guestAgentDirectory: guestAgentDir.map(absolute),
            hostName: hostName ?? ProcessInfo.processInfo.hostName,
            migrationListen: try migrationListen.map { try HostPort(parsing: $0) },
            listenerLimits: ListenerLimits(idleTimeout: .seconds(connectionIdleTimeout), apiConnections: maxApiConnections))
        do {
            try SocketFile.prepare(configuration.socketPath)
            let host = try await ViridianHost.open(configuration, logger: logger)
            logger.info("listening", metadata: ["socket": "\(configuration.socketPath)", "state": "\(stateDirectory)",
                                                "migration": "\(configuration.migrationListen?.description ?? "off")",
                                                "web": "\(webAddress.map { "https://\($0)/" } ?? "off")"])
            var services: [any Service] = [ApplicationBuilder.build(host: host, logger: logger)]
            if let address = configuration.migrationListen {
                services.append(try PeerListener.build(host: host, address: address, logger: logger))
            }
            if let webAddress {
                services.append(try WebListener.build(host: host, address: webAddress, certificate: webCertificateFiles, logger: logger))
            }
            // Last in the list, so stopped first: ends the event streams before the servers wait for open requests.
            services.append(EventStreamCloser(host: host))
            let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await host.shutDown()
            SocketFile.remove(configuration.socketPath)
        } catch let error as ViridianError {
            logger.critical("\(error.description)")
            throw ExitCode(1)
        }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// Ends the API's event streams when the daemon begins to stop, so the server's graceful shutdown
/// (which waits for open requests) is not held by clients following `/v1/events/stream`.
struct EventStreamCloser: Service {
    let host: ViridianHost

    func run() async throws {
        try? await gracefulShutdown()
        host.closeEventStreams()
    }
}
