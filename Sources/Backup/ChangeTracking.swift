import APITypes
import Foundation
import Logging
import QMP
import Storage

/// Change tracking of one VM's disks, on every disk format (as Hyper-V's resilient change tracking
/// keeps `.rct` files beside VHDX files). While the worker runs, QEMU marks each write in a dirty
/// bitmap on the disk's active node (carried onto new overlays by checkpoints). Before the worker
/// ends cleanly the bits are merged into a persistent bitmap in a small qcow2 file per disk (which
/// holds no data), and QEMU stores it as it closes; the next start loads it back. A worker that ends
/// any other way (a crash, a kill, a host that lost power) leaves the file marked in use, and a disk
/// file whose size or time changed while the VM was Off was written behind Viridian's back: either
/// way the bits are lost and the next backup reads everything, saying why.
package struct ChangeTracking: Sendable {
    /// The bitmap's name on every node.
    package static let bitmap = "viridian-cbt"
    /// Bytes per bit: the backup files' cluster size.
    package static let granularity: Int64 = 65536

    let folder: String
    let tool: DiskImageTool
    let logger: Logger

    /// - Parameter folder: the VM's change-tracking folder (made when needed).
    package init(folder: String, tool: DiskImageTool, logger: Logger) {
        self.folder = folder
        self.tool = tool
        self.logger = logger
    }

    var stateFile: String { "\(folder)/tracking.json" }

    func file(of disk: TrackedDisk) -> String { "\(folder)/\(disk.key).qcow2" }

    static func node(of disk: TrackedDisk) -> String { "cbt\(disk.key.prefix(12))" }

    func loadState() -> TrackingState {
        guard let data = FileManager.default.contents(atPath: stateFile), data.count < 1 << 20,
              let state = try? JSONDecoder().decode(TrackingState.self, from: data) else { return .fresh }
        return state
    }

    func store(_ state: TrackingState) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try DiskPath.replaceAtomically(stateFile, with: try JSONEncoder().encode(state))
    }

    /// Stores `state`, logging a failure: its callers run as a worker starts or ends, which must not fail over it.
    private func storeOrLog(_ state: TrackingState) {
        do { try store(state) } catch { logger.error("cannot store the change tracking state", metadata: ["error": "\(error)"]) }
    }

    /// Marks the bits lost (`reason` says why); the next backup reads everything.
    package func invalidate(_ reason: String) {
        var state = loadState()
        guard state.token != nil || state.lost == nil else { return }
        state.lose(reason)
        storeOrLog(state)
    }

    /// Why the bits cannot be trusted now, or nil when they count every write since backup point `token`.
    package func unusableReason(since token: String) -> String? {
        let state = loadState()
        if let lost = state.lost { return lost }
        return state.token == token ? nil : "the VM's last backup went to another repository or an NBD export"
    }

    /// The point the bits count from now (a backup point's or an export's token), or why they
    /// count from nowhere; an Off VM's files must also hold every write of its last run.
    package func base(running: Bool, disks: [TrackedDisk]) -> (token: String?, unusable: String?) {
        let state = loadState()
        if let lost = state.lost { return (nil, lost) }
        if !running, let reason = offlineReason(disks: disks) { return (nil, reason) }
        guard let token = state.token else { return (nil, "the VM has no earlier backup or export") }
        return (token, nil)
    }

    /// Before a backup's copy starts (which empties the bitmaps when it succeeds): until the point is
    /// stored, the bits count from nowhere, so a daemon killed in between leaves a complete next backup.
    /// Returns the state to put back when the copy fails (QEMU then keeps every bit).
    package func beginBackup(lostIfInterrupted reason: String = "a backup of the VM was interrupted") throws -> TrackingState {
        let previous = loadState()
        var state = previous
        state.lose(reason)
        try store(state)
        return previous
    }

    /// The copy failed and QEMU kept the bits: they count from where they did before.
    package func abandonBackup(_ previous: TrackingState) {
        var state = loadState()
        state.token = previous.token
        state.lost = previous.lost
        storeOrLog(state)
    }

    /// The bits count from backup point `token` now.
    package func backupTaken(_ token: String) throws {
        var state = loadState()
        state.token = token
        state.lost = nil
        try store(state)
    }

    /// At a worker's start, before its processors run (or when a backup finds a worker without
    /// tracking): puts a bitmap on each disk's active node holding what the VM's change-tracking file
    /// carried over from its last run. Never fails the start: what cannot be set up is marked lost.
    package func arm(_ client: QMPClient, disks: [TrackedDisk]) async {
        var state = loadState()
        if let reason = changedBehindOurBack(state, disks) { state.lose(reason) }
        state.stamps = nil
        state.saved = false
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            removeFilesOfOtherDisks(disks)
            for disk in disks {
                if let reason = try await armDisk(disk, client, fresh: state.lost != nil) { state.lose(reason) }
            }
        } catch {
            state.lose("change tracking could not be set up: \(ViridianError.wrapping(error).message)")
            logger.warning("change tracking could not be set up", metadata: ["error": "\(error)"])
        }
        storeOrLog(state)
    }

    /// One disk: its file's node in the worker, and the bitmap on its active node. Returns why its bits are lost, if they are.
    private func armDisk(_ disk: TrackedDisk, _ client: QMPClient, fresh: Bool) async throws -> String? {
        let root = try await client.rootNode(ofDevice: "disk\(disk.index)")
        if try await client.dirtyBitmaps(onNode: root).contains(where: { $0.name == Self.bitmap }) { return nil }
        let node = Self.node(of: disk)
        let path = file(of: disk)
        var lost: String?
        if try await client.namedBlockNodes().contains(where: { $0["node-name"]?.stringValue == node }) {
            lost = "the worker ran without change tracking"
        } else {
            if fresh || !FileManager.default.fileExists(atPath: path) {
                try? FileManager.default.removeItem(atPath: path)
                try await tool.createTrackingImage(path: path, sizeBytes: disk.sizeBytes)
            }
            try await client.blockdevAdd(["driver": "qcow2", "node-name": .string(node),
                                          "file": ["driver": "file", "filename": .string(path)], "backing": .null])
        }
        let kept = try await client.dirtyBitmaps(onNode: node).first { $0.name == Self.bitmap }
        if kept?.inconsistent == true {
            lost = "the VM's worker ended without saving its change tracking (a crash, a kill or a power loss)"
            try await client.removeDirtyBitmap(node: node, name: Self.bitmap)
        } else if kept == nil, !fresh {
            lost = "the change tracking of \(disk.identity.path) is missing"
        }
        if kept == nil || kept?.inconsistent == true {
            try await client.addDirtyBitmap(node: node, name: Self.bitmap, granularity: Self.granularity, persistent: true)
        }
        try await client.addDirtyBitmap(node: root, name: Self.bitmap, granularity: Self.granularity, persistent: false)
        if lost == nil { try await client.mergeDirtyBitmaps(node: root, name: Self.bitmap, sources: [(node, Self.bitmap)]) }
        return lost
    }

    /// Before a worker ends cleanly (the guest shut down, a turn-off, a save): every disk's bits go
    /// into its change-tracking file, which QEMU stores as it closes.
    package func save(_ client: QMPClient, disks: [TrackedDisk]) async {
        var state = loadState()
        do {
            for disk in disks {
                let root = try await client.rootNode(ofDevice: "disk\(disk.index)")
                guard try await client.dirtyBitmaps(onNode: root).contains(where: { $0.name == Self.bitmap }) else {
                    throw ViridianError(.invalidState, "the disk \(disk.identity.path) has no change tracking in the worker")
                }
                try await client.mergeDirtyBitmaps(node: Self.node(of: disk), name: Self.bitmap, sources: [(root, Self.bitmap)])
            }
            state.saved = true
        } catch {
            state.lose("the change tracking could not be saved as the worker ended: \(ViridianError.wrapping(error).message)")
        }
        storeOrLog(state)
    }

    /// After the worker exited: a worker that saved its bits leaves them valid (with the disk files'
    /// stamps, to catch writes behind Viridian's back); any other exit loses them.
    package func workerEnded(disks: [TrackedDisk]) {
        var state = loadState()
        if state.saved {
            state.stamps = Self.stamps(disks)
        } else if state.token != nil || state.lost == nil {
            state.lose("the VM's worker ended without saving its change tracking (a crash, a kill or a power loss)")
        }
        state.saved = false
        storeOrLog(state)
    }

    /// The stamps of every file of `disks`' chains.
    static func stamps(_ disks: [TrackedDisk]) -> [String: FileStamp] {
        var stamps: [String: FileStamp] = [:]
        for image in disks.flatMap(\.chain) { stamps[image.path] = FileStamp(path: image.path) }
        return stamps
    }

    /// Which recorded file of an Off VM's disks changed since its worker ended, if one did. Files
    /// made since (a checkpoint's new overlays) were not written by the guest.
    func changedBehindOurBack(_ state: TrackingState, _ disks: [TrackedDisk]) -> String? {
        guard let stamps = state.stamps else { return nil }
        for image in disks.flatMap(\.chain) {
            guard let stamp = stamps[image.path] else { continue }
            if FileStamp(path: image.path) != stamp {
                return "\(image.path) changed while the VM was Off, outside Viridian's change tracking"
            }
        }
        return nil
    }

    /// Whether the Off VM's change-tracking files hold every write since its last run.
    package func offlineReason(disks: [TrackedDisk]) -> String? {
        let state = loadState()
        if let lost = state.lost { return lost }
        guard state.stamps != nil else { return "the VM's change tracking was not saved when its worker ended" }
        if let changed = changedBehindOurBack(state, disks) { return changed }
        return disks.first { !FileManager.default.fileExists(atPath: file(of: $0)) }.map { "the change tracking of \($0.identity.path) is missing" }
    }

    /// After an Off VM's backup: fresh stamps (the backup only read the disks).
    package func offlineBackupTaken(_ token: String, disks: [TrackedDisk]) throws {
        var state = loadState()
        state.token = token
        state.lost = nil
        state.stamps = Self.stamps(disks)
        try store(state)
    }

    private func removeFilesOfOtherDisks(_ disks: [TrackedDisk]) {
        let wanted = Set(disks.map { "\($0.key).qcow2" })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".qcow2") && !wanted.contains(name) {
            try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
        }
    }
}

extension ChangeTracking {
    /// A running disk grew: its change-tracking file grows with it (so the bits can still be saved
    /// into it), and the next backup is full (its size differs from the last point's anyway).
    package func diskResized(_ client: QMPClient, disk: TrackedDisk, sizeBytes: Int64) async {
        do {
            if try await client.namedBlockNodes().contains(where: { $0["node-name"]?.stringValue == Self.node(of: disk) }) {
                try await client.blockResize(nodeName: Self.node(of: disk), sizeBytes: UInt64(sizeBytes))
            }
        } catch {
            logger.warning("cannot grow a change-tracking file with its disk", metadata: ["disk": "\(disk.identity.path)", "error": "\(error)"])
        }
        invalidate("\(disk.identity.path) was resized")
    }

    /// A disk left the running VM: its change-tracking file is closed and deleted, and the next
    /// backup is full (the VM's set of disks differs from the last point's).
    package func diskRemoved(_ client: QMPClient, disk: TrackedDisk) async {
        invalidate("\(disk.identity.path) was removed while the VM ran")
        do {
            if try await client.namedBlockNodes().contains(where: { $0["node-name"]?.stringValue == Self.node(of: disk) }) {
                try await client.blockdevDel(nodeName: Self.node(of: disk))
            }
            if FileManager.default.fileExists(atPath: file(of: disk)) { try FileManager.default.removeItem(atPath: file(of: disk)) }
        } catch {
            logger.warning("cannot close the change-tracking file of a removed disk", metadata: ["disk": "\(disk.identity.path)", "error": "\(error)"])
        }
    }

    /// Replaces the disk's change-tracking file with one whose persistent bitmap is empty: the bits
    /// count from now when the VM next starts.
    package func makeEmptyFile(for disk: TrackedDisk) async throws {
        let path = file(of: disk)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try await tool.createTrackingImage(path: path, sizeBytes: disk.sizeBytes, bitmap: Self.bitmap, granularity: Self.granularity)
    }
}

extension ChangeTracking {
    /// After a restart of viridiand, in a worker it re-attached to: the jobs and target nodes of a
    /// backup viridiand did not live to finish, and an NBD export it did not end, are cancelled and
    /// removed (both marked the bits lost when they began), so the next backup starts clean.
    package func removeInterruptedBackup(_ client: QMPClient) async {
        do {
            let jobs = try await client.queryBlockJobs().filter { $0.id.hasPrefix("backup") }
            for job in jobs where job.status != "concluded" { try await client.blockJobCancel(job.id, force: true) }
            if !jobs.isEmpty {
                _ = try await client.waitForBlockJobs(Set(jobs.map(\.id)), timeout: .seconds(60)) { states in
                    states.allSatisfy { $0.status == "concluded" }
                }
                for job in jobs { try await client.jobDismiss(job.id) }
            }
            for node in try await client.namedBlockNodes().compactMap({ $0["node-name"]?.stringValue }) where node.hasPrefix("bkt") {
                try await client.blockdevDel(nodeName: node)
            }
            await PullExport(client: client, fleecing: true, logger: logger).removeLeftovers()
        } catch {
            logger.warning("cannot remove what an interrupted backup left in the worker", metadata: ["error": "\(error)"])
        }
    }
}
