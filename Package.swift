// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "Viridian",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "viridiand", targets: ["viridiand"]),
        .executable(name: "viridian", targets: ["viridian"]),
        .executable(name: "viridian-guest", targets: ["viridian-guest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Wire types shared by the daemon, the API client and the CLI; the one error type.
        .target(name: "APITypes", dependencies: ["AgentProtocol"], swiftSettings: strict),
        // A standalone QMP client: wire format, monitor connection, typed commands.
        .target(name: "QMP", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // The integration services wire protocol, shared by the host and the guest agent.
        .target(name: "AgentProtocol", swiftSettings: strict),
        // The guest agent's services; built as a static binary for guests (scripts/build-guest-agent.sh).
        .target(name: "GuestAgent", dependencies: ["AgentProtocol", "CGuestSystem"], swiftSettings: strict),
        // glibc calls Swift's Glibc module leaves out (pseudo-terminals, pipe2).
        .target(name: "CGuestSystem"),
        .executableTarget(name: "viridian-guest", dependencies: [
            "GuestAgent", "AgentProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        // The host side of the integration services: one connection per service port, the services,
        // and the qemu-guest-agent fallback.
        .target(name: "IntegrationServices", dependencies: [
            "AgentProtocol", "APITypes", "QMP",
            .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Subprocess helper shared by every module that drives an engine binary.
        .target(name: "HostTools", dependencies: ["APITypes",
            .product(name: "Subprocess", package: "swift-subprocess")], swiftSettings: strict),
        // Disk images through qemu-img: VHDX, VHD, qcow2, differencing children.
        .target(name: "Storage", dependencies: ["APITypes", "HostTools"], swiftSettings: strict),
        // The QEMU worker: accelerator probe, command line, process launch.
        .target(name: "Engine", dependencies: ["APITypes", "AgentProtocol", "HostTools"], swiftSettings: strict),
        // Builds the cached test guest from Debian packages.
        .target(name: "GuestImage", dependencies: ["APITypes", "HostTools",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // The SQLite inventory: VMs, images, events, jobs.
        // Virtual switches on the host's kernel: bridges, taps, nftables port rules, tc.
        .target(name: "VirtualSwitch", dependencies: ["APITypes", "HostTools",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .target(name: "Inventory", dependencies: ["APITypes",
            .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
        // What every feature of the daemon shares: jobs, the event log and its live feed, host
        // settings, the disk catalog, failpoints.
        .target(name: "HostServices", dependencies: [
            "APITypes", "AgentProtocol", "QMP", "Storage", "Inventory", "IntegrationServices",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Who owns each VM: the compare-and-swap store (local now; etcd for the cluster).
        .target(name: "Ownership", dependencies: ["Inventory"], swiftSettings: strict),
        // Other Viridian hosts: this host's identity and certificate authority, the peer list, the
        // mutual-TLS client, the hello and its protocol version.
        .target(name: "Peers", dependencies: [
            "APITypes", "Inventory", "Engine",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: strict),
        // Moves between hosts (live, offline, with storage) and storage moves here, over the VM
        // host's narrow protocols (`DepartureHost`, `ArrivalHost`, `StorageMoveHost`).
        .target(name: "Migration", dependencies: [
            "APITypes", "QMP", "Engine", "Storage", "Inventory", "HostServices", "Peers",
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Checkpoints of VMs (Checkpoint-VM and friends) on every disk format, over the VM host's
        // narrow protocol (`CheckpointHost`): overlays, the tree, merging what no checkpoint needs.
        .target(name: "Checkpoints", dependencies: [
            "APITypes", "QMP", "Engine", "Storage", "Inventory", "HostServices", "IntegrationServices",
        ], swiftSettings: strict),
        // Backups of VMs into repositories (full and incremental on every disk format, restore,
        // verify, prune) and the change tracking they rest on, over the VM host's narrow protocol (`BackupHost`).
        .target(name: "Backup", dependencies: [
            "APITypes", "QMP", "Engine", "Storage", "Inventory", "HostServices", "HostTools", "IntegrationServices", "CXXHash",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // XXH3 from Debian's libxxhash (libxxhash-dev): the backup repositories' checksums.
        .target(name: "CXXHash", linkerSettings: [.linkedLibrary("xxhash")]),
        // PAM's C interface for the web console's sign-in (libpam0g-dev).
        .target(name: "CPAM", linkerSettings: [.linkedLibrary("pam")]),
        // The web console's parts that need no HTTP server: API tokens, PAM sign-in, sessions, the
        // sign-in rate limit, its assets (own page and script; xterm.js and noVNC from Debian), and
        // the metrics collector behind `MetricsSource` with its Prometheus exposition.
        .target(name: "WebConsole", dependencies: [
            "APITypes", "Inventory", "CPAM",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], resources: [.copy("Resources")], swiftSettings: strict),
        // viridiand's composition: the VM host (VM lifecycle, disks, adapters, integration
        // services), switches, images, and the HTTP API over every feature.
        .target(name: "Daemon", dependencies: [
            "APITypes", "AgentProtocol", "QMP", "HostTools", "Storage", "Engine", "GuestImage", "Inventory", "IntegrationServices", "VirtualSwitch",
            "HostServices", "Ownership", "Peers", "Migration", "Checkpoints", "Backup", "WebConsole",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], resources: [.copy("Resources/openapi.yaml")], swiftSettings: strict),
        // The HTTP client the CLI (and tests) use to talk to viridiand.
        .target(name: "APIClient", dependencies: [
            "APITypes", "AgentProtocol",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
        ], swiftSettings: strict),
        // The `viridian` command tree.
        .target(name: "CLICommands", dependencies: [
            "APITypes", "APIClient", "AgentProtocol",
            .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        .executableTarget(name: "viridiand", dependencies: [
            "Daemon", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .executableTarget(name: "viridian", dependencies: ["CLICommands"], swiftSettings: strict),
        .testTarget(name: "UnitTests", dependencies: [
            "APITypes", "QMP", "Storage", "Engine", "GuestImage", "Inventory", "Daemon", "HostTools",
            "AgentProtocol", "IntegrationServices", "VirtualSwitch", "HostServices", "Ownership", "Peers", "Migration", "Checkpoints", "Backup",
            "WebConsole",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: [
            "APITypes", "APIClient", "QMP", "Engine", "HostTools", "GuestImage", "AgentProtocol",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .target(name: "BenchSupport", dependencies: ["APITypes", "APIClient"], path: "bench/Support", swiftSettings: strict),
        .executableTarget(name: "vm-start-bench", dependencies: ["APITypes", "APIClient", "HostTools", "BenchSupport"],
                          path: "bench/vm-start", swiftSettings: strict),
        .executableTarget(name: "migration-bench", dependencies: ["APITypes", "APIClient", "Engine", "HostTools", "QMP", "BenchSupport"],
                          path: "bench/migration", swiftSettings: strict),
        .executableTarget(name: "checkpoint-bench", dependencies: ["APITypes", "APIClient", "HostTools", "QMP", "BenchSupport",
                                                           .product(name: "Logging", package: "swift-log")],
                          path: "bench/checkpoint", swiftSettings: strict),
        .executableTarget(name: "backup-bench", dependencies: ["APITypes", "APIClient", "HostTools", "BenchSupport"],
                          path: "bench/backup", swiftSettings: strict),
        .executableTarget(name: "network-bench", dependencies: ["APITypes", "APIClient", "HostTools", "QMP", "BenchSupport"],
                          path: "bench/network", swiftSettings: strict),
        .executableTarget(name: "integration-bench", dependencies: ["APITypes", "APIClient", "HostTools", "BenchSupport",
                                                                  .product(name: "AsyncAlgorithms", package: "swift-async-algorithms")],
                          path: "bench/integration", swiftSettings: strict),
    ]
)
