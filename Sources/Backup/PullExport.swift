import APITypes
import Foundation
import Logging
import QMP

/// The block-layer part of a pull-mode export, in a running VM's worker (`fleecing`) or in a
/// storage daemon holding an Off VM's disks read-only: each disk's content at one instant served
/// read-only by QEMU's NBD server, with TLS (a pre-shared key), and with the blocks changed since
/// the change tracking's last point as the `qemu:dirty-bitmap:viridian-changes` meta context.
///
/// While a VM runs, a `blockdev-backup sync=none` job per disk copies each block the guest is about
/// to overwrite into a scratch qcow2 whose backing is the disk, so the scratch node reads as the
/// disk was at the instant. The instant is one transaction: the fleecing jobs start, the tracking
/// bits are moved into a frozen bitmap on each scratch node, and the tracking starts over.
struct PullExport: Sendable {
    /// One disk's part.
    struct Disk: Sendable {
        var index: Int
        /// The disk's node: a running VM's root node, or the storage daemon's read-only node.
        var source: String
        /// The disk's change-tracking file node; nil when the export has no bitmap.
        var tracker: String?
        /// The scratch qcow2 (fleecing only).
        var scratch: String?

        var exportName: String { "disk\(index)" }
    }

    /// The exported bitmap's name on each exported node.
    static let bitmap = "viridian-changes"
    /// The NBD meta context of the changed blocks.
    static let bitmapContext = "qemu:dirty-bitmap:\(bitmap)"
    /// The TLS identity clients name.
    static let tlsUsername = "viridian"
    private static let credentials = "pull-tls"
    /// Ports tried when none is given, from NBD's own.
    static let defaultPorts = 10809...10908

    let client: QMPClient
    /// True in a running VM's worker; false in a storage daemon.
    let fleecing: Bool
    let logger: Logger

    func exportedNode(_ disk: Disk) -> String { fleecing ? "fls\(disk.index)" : disk.source }
    private func jobID(_ disk: Disk) -> String { "fleece\(disk.index)" }
    private func exportID(_ disk: Disk) -> String { "pull\(disk.index)" }

    /// The bits the tracking had at the instant could not be given back after a failure: the
    /// tracking cannot vouch for anything.
    struct BitsLost: Error {
        var underlying: any Error
    }

    /// Takes the instant (between `quiesce` and `resume`) and serves it on `address`, on `port` or
    /// the first free default port, which it returns. `withBitmap` exports the tracking bits.
    /// `restartTracking` (fleecing) moves the bits into a frozen bitmap on each scratch node at the
    /// instant, so the tracking counts from this point and a failed export can give them back.
    /// Whatever it added is removed again when it fails.
    /// - Throws: `BitsLost` when it failed after the instant and the bits could not go back.
    func open(_ disks: [Disk], withBitmap: Bool, restartTracking: Bool, tlsDirectory: String, address: String, port: Int?,
              quiesce: () async -> Bool, resume: () async -> Void) async throws -> (port: Int, frozen: Bool) {
        var instantTaken = false
        do {
            var frozen = false
            if fleecing {
                frozen = try await takeInstant(disks, restartTracking: restartTracking, quiesce: quiesce, resume: resume)
                instantTaken = true
            } else if withBitmap {
                for disk in disks {
                    guard let tracker = disk.tracker else { continue }
                    try await client.addDirtyBitmap(node: disk.source, name: Self.bitmap, granularity: ChangeTracking.granularity, persistent: false)
                    try await client.mergeDirtyBitmaps(node: disk.source, name: Self.bitmap, sources: [(tracker, ChangeTracking.bitmap)])
                }
            }
            try await client.objectAdd(type: "tls-creds-psk", id: Self.credentials,
                                       properties: ["endpoint": "server", "dir": .string(tlsDirectory)])
            let chosen = try await startServer(address: address, port: port)
            for disk in disks {
                try await client.blockExportAdd(id: exportID(disk), nodeName: exportedNode(disk), name: disk.exportName, writable: false,
                                                bitmaps: withBitmap ? [Self.bitmap] : [])
            }
            return (chosen, frozen)
        } catch {
            let kept = await close(disks, mergeBack: instantTaken && restartTracking)
            throw kept ? error : BitsLost(underlying: error)
        }
    }

    /// The fleecing transaction, the guest frozen around it. Returns whether it froze.
    private func takeInstant(_ disks: [Disk], restartTracking: Bool, quiesce: () async -> Bool, resume: () async -> Void) async throws -> Bool {
        var actions: [JSONValue] = []
        for disk in disks {
            guard let scratch = disk.scratch else { continue }
            try await client.blockdevAdd(["driver": "qcow2", "node-name": .string(exportedNode(disk)),
                                          "file": ["driver": "file", "filename": .string(scratch)], "backing": .string(disk.source)])
            actions.append(QMPClient.fleeceAction(jobID: jobID(disk), source: disk.source, scratch: exportedNode(disk)))
            if restartTracking {
                actions.append(QMPClient.addFrozenBitmapAction(node: exportedNode(disk), name: Self.bitmap, granularity: ChangeTracking.granularity))
                actions.append(QMPClient.mergeBitmapsAction(node: exportedNode(disk), name: Self.bitmap,
                                                            sources: [(disk.source, ChangeTracking.bitmap)]))
                actions.append(QMPClient.clearBitmapAction(node: disk.source, name: ChangeTracking.bitmap))
                if let tracker = disk.tracker { actions.append(QMPClient.clearBitmapAction(node: tracker, name: ChangeTracking.bitmap)) }
            }
        }
        let frozen = await quiesce()
        do {
            try await client.transaction(actions)
        } catch {
            await resume()
            throw error
        }
        await resume()
        return frozen
    }

    /// `nbd-server-start` on `port`, or on the first default port not in use.
    private func startServer(address: String, port: Int?) async throws -> Int {
        for candidate in port.map({ $0...$0 }) ?? Self.defaultPorts {
            do {
                try await client.nbdServerStart(host: address, port: candidate, tlsCredentials: Self.credentials)
                return candidate
            } catch QMPError.commandFailed(_, _, let description) where port == nil && description.localizedCaseInsensitiveContains("in use") {
                continue
            }
        }
        throw ViridianError(.conflict, "no port of \(Self.defaultPorts) is free on \(address) for the NBD server; give one with --listen ADDRESS:PORT")
    }

    /// Ends the export: clients are cut off, and with `mergeBack` the exported bits go back into the
    /// tracking (a tool that failed loses nothing). Returns false when the bits could not go back.
    func close(_ disks: [Disk], mergeBack: Bool) async -> Bool {
        var exports: [String] = []
        await attempt("listing the exports") { exports = try await client.blockExportIDs() }
        for disk in disks where exports.contains(exportID(disk)) {
            await attempt("removing export \(exportID(disk))") { try await client.blockExportDel(id: exportID(disk), hard: true) }
        }
        await stopServer()
        var merged = true
        if fleecing && mergeBack {
            for disk in disks {
                do {
                    try await client.mergeDirtyBitmaps(node: disk.source, name: ChangeTracking.bitmap, sources: [(exportedNode(disk), Self.bitmap)])
                } catch {
                    merged = false
                    logger.warning("cannot give an export's changed blocks back to the change tracking", metadata: ["error": "\(error)"])
                }
            }
        }
        if fleecing { await removeFleecing(Set(disks.map(jobID)), nodes: disks.map(exportedNode)) }
        await attempt("removing the export's TLS credentials") { try await client.objectDel(id: Self.credentials) }
        return merged
    }

    /// After viridiand restarted: what an export it did not end left in the worker.
    func removeLeftovers() async {
        do {
            for id in try await client.blockExportIDs() where id.hasPrefix("pull") { try await client.blockExportDel(id: id, hard: true) }
            let jobs = try await client.queryBlockJobs().filter { $0.id.hasPrefix("fleece") }
            let nodes = try await client.namedBlockNodes().compactMap { $0["node-name"]?.stringValue }.filter { $0.hasPrefix("fls") }
            guard !jobs.isEmpty || !nodes.isEmpty else { return }
            await stopServer()
            await removeFleecing(Set(jobs.map(\.id)), nodes: nodes)
            await attempt("removing the export's TLS credentials") { try await client.objectDel(id: Self.credentials) }
        } catch {
            logger.warning("cannot remove what an export left in the worker", metadata: ["error": "\(error)"])
        }
    }

    private func stopServer() async {
        do {
            try await client.nbdServerStop()
        } catch QMPError.commandFailed(_, _, let description) where description.contains("not running") {
            return
        } catch {
            logger.warning("cannot stop an export's NBD server", metadata: ["error": "\(error)"])
        }
    }

    /// Cancels the fleecing jobs (a `sync=none` job runs until then) and removes the scratch nodes.
    private func removeFleecing(_ jobs: Set<String>, nodes: [String]) async {
        if !jobs.isEmpty {
            for job in jobs { await attempt("cancelling \(job)") { try await client.blockJobCancel(job, force: true) } }
            await attempt("waiting for the fleecing jobs to end") {
                _ = try await client.waitForBlockJobs(jobs, interval: .milliseconds(20), timeout: .seconds(30)) { states in
                    states.allSatisfy { $0.status == "concluded" || $0.status == "null" }
                }
            }
            for job in jobs { await attempt("dismissing \(job)") { try await client.jobDismiss(job) } }
        }
        var present: Set<String> = []
        await attempt("listing the nodes") { present = Set(try await client.namedBlockNodes().compactMap { $0["node-name"]?.stringValue }) }
        for node in nodes where present.contains(node) { await attempt("removing node \(node)") { try await client.blockdevDel(nodeName: node) } }
    }

    /// Runs one step of a teardown, which goes on past a failure (logged).
    private func attempt(_ step: String, _ body: () async throws -> Void) async {
        do { try await body() } catch { logger.warning("ending an export: \(step) failed", metadata: ["error": "\(error)"]) }
    }
}
