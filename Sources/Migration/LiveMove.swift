import APITypes
import Foundation
import HostServices
import Peers
import QMP

/// What a live move measured.
package struct LiveMoveResult: Sendable {
    package var endpoint: MigrationEndpoint
    package var downtimeMilliseconds: Int64?
    package var totalMilliseconds: Int64?
    package var transferredBytes: Int64
}

/// The source side of one live move once the destination has prepared: TLS credentials for the
/// stream, the disks mirrored into the destination's NBD exports (with storage), the memory
/// stream, and the switchover. Any failure or cancel stops the stream and the mirrors and
/// leaves the VM running here; the destination is told by the caller.
package struct LiveMove: Sendable {
    /// How long the stream may make no progress before the move gives up (a cut network).
    package static let stallTimeout = Duration.seconds(15)
    package static let tlsObject = "migtls-out"
    /// QEMU's own default (128 MiB/s) would throttle every move; without a cap the network decides.
    package static let unlimitedBandwidth: Int64 = 1 << 40
    package static let defaultDowntimeMilliseconds = 300

    package let departing: DepartingVM
    package let client: QMPClient
    package let identity: HostIdentity
    package let peer: PeerRegistry.Peer
    package let plan: IncomingPlan
    package let request: MoveVMRequest
    package let tuning: MigrationTuning
    package let endpoint: MigrationEndpoint
    /// Set when the guest must pause while its memory is copied (`MemoryCopyRule`); its disks still copy live.
    package let pauseReason: String?
    package let progress: JobProgress

    package func run() async throws -> LiveMoveResult {
        let tlsDirectory = departing.paths.runtimeDirectory + "/tls-out"
        try QEMUTLSCredentials.write(identity: identity, peer: peer.authority, endpoint: .client, to: tlsDirectory)
        try await client.objectAdd(type: "tls-creds-x509", id: Self.tlsObject,
                                   properties: ["dir": .string(tlsDirectory), "endpoint": .string("client"), "verify-peer": .bool(true)])
        do {
            let result = try await stream()
            await dropCredentials(tlsDirectory)
            return result
        } catch {
            await uncancelled { await dropCredentials(tlsDirectory) }
            throw error
        }
    }

    private func stream() async throws -> LiveMoveResult {
        let withStorage = !plan.exports.isEmpty
        try await MigrationTuningSetup.apply(tuning, to: client, tlsCredentials: Self.tlsObject, tlsHostName: plan.hostName,
                                             pauseBeforeSwitchover: withStorage)
        try await client.setMigrationParameters([
            "max-bandwidth": .int(request.bandwidthMiBps.map { Int64($0) << 20 } ?? Self.unlimitedBandwidth),
            "downtime-limit": .int(Int64(request.downtimeMilliseconds ?? Self.defaultDowntimeMilliseconds)),
        ])
        var mirrors: DiskMirrors?
        do {
            if withStorage, let nbdPort = plan.nbdPort {
                progress.report(2, "copying disks to \(peer.record.name) over \(endpoint.address)")
                let targets = plan.exports.mapValues { export -> [String: JSONValue] in
                    ["driver": .string("nbd"), "export": .string(export), "tls-creds": .string(Self.tlsObject),
                     "tls-hostname": .string(plan.hostName),
                     "server": .object(["type": .string("inet"), "host": .string(endpoint.address), "port": .string(String(nbdPort))])]
                }
                let started = try await DiskMirrors.start(client: client, targets: targets, prefix: "mv")
                mirrors = started
                try await started.waitUntilReady { copied, total in
                    let percent = total > 0 ? Int(copied * 45 / total) : 0
                    progress.report(2 + percent, "disks: \(ByteSize.format(UInt64(copied))) of \(ByteSize.format(UInt64(total))) copied")
                }
            }
            let result = try await migrateMemory(mirrors: mirrors, memoryStart: withStorage ? 50 : 0)
            await mirrors?.removeTargets()
            return result
        } catch {
            await uncancelled { [client, mirrors] in
                try? await client.migrateCancel()
                await waitUntilStreamEnds()
                await mirrors?.abandon()
            }
            throw error
        }
    }

    private func migrateMemory(mirrors: DiskMirrors?, memoryStart: Int) async throws -> LiveMoveResult {
        guard let port = plan.migrationPort else { throw ViridianError(.internalError, "the destination gave no migration port") }
        let host = endpoint.address.contains(":") ? "[\(endpoint.address)]" : endpoint.address
        // A paused copy's downtime is the whole copy, not the final stage QEMU reports.
        var pausedAt: ContinuousClock.Instant?
        if let pauseReason {
            progress.report(memoryStart, "pausing the guest while its memory is copied: \(pauseReason)")
            try await client.stop()
            pausedAt = .now
        }
        try await client.migrate(uri: "tcp:\(host):\(port)")
        var lastBytes: Int64 = -1
        var lastProgress = ContinuousClock.now
        while true {
            try Task.checkCancellation()
            let info = try await client.queryMigrate()
            switch info.status {
            case "completed":
                let downtime = pausedAt.map { Int64((ContinuousClock.now - $0) / .milliseconds(1)) }
                return LiveMoveResult(endpoint: endpoint, downtimeMilliseconds: downtime ?? info.downtimeMilliseconds,
                                      totalMilliseconds: info.totalMilliseconds, transferredBytes: info.totalTransferredBytes)
            case "failed":
                throw ViridianError(.engineFailure, "the migration stream failed: \(info.errorDescription ?? "no reason given")")
            case "cancelled", "cancelling":
                throw ViridianError(.cancelled, "the migration stream was cancelled")
            case "pre-switchover":
                progress.report(96, "switching over: finishing the disk copies")
                try await mirrors?.finishWithoutPivot()
                try await client.migrateContinue()
            default:
                if info.transferredBytes > 0 { Failpoints.crash(at: "source-exit-mid-stream") }
                if info.transferredBytes != lastBytes {
                    lastBytes = info.transferredBytes
                    lastProgress = .now
                } else if ContinuousClock.now - lastProgress > Self.stallTimeout {
                    throw ViridianError(.timeout, "the migration stream made no progress for \(Self.stallTimeout); the network to '\(peer.record.name)' may be cut")
                }
                let span = 95 - memoryStart
                progress.report(memoryStart + info.percent * span / 100, Self.describe(info, via: endpoint))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// `memory: 120 MiB sent, 96 MiB of 256 MiB remaining, 180 MiB/s via 10.1.0.2 (10.1.0.0/24)`
    package static func describe(_ info: QMPMigrationInfo, via endpoint: MigrationEndpoint) -> String {
        let rate = Int(info.megabitsPerSecond / 8)
        let network = endpoint.network.map { " (\($0))" } ?? ""
        return "memory: \(ByteSize.format(UInt64(max(0, info.transferredBytes)))) sent, "
            + "\(ByteSize.format(UInt64(max(0, info.remainingBytes)))) of \(ByteSize.format(UInt64(max(0, info.totalBytes)))) remaining, "
            + "\(rate) MiB/s via \(endpoint.address)\(network)"
    }

    private func waitUntilStreamEnds() async {
        for _ in 0..<200 {
            guard let status = try? await client.queryMigrate().status,
                  ["active", "setup", "pre-switchover", "device", "cancelling"].contains(status) else { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func dropCredentials(_ directory: String) async {
        try? await client.setMigrationParameters(["tls-creds": .string(""), "tls-hostname": .string("")])
        try? await client.objectDel(id: Self.tlsObject)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
