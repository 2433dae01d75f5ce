import APITypes
import Foundation
import Inventory
import Logging
import Synchronization

/// How a job's body reports progress.
public struct JobProgress: Sendable {
    /// The job's id.
    public let jobID: String
    fileprivate let update: @Sendable (Int?, String?) -> Void
    fileprivate let start: @Sendable () -> Void

    /// Sets the percent complete (0–100) and, optionally, what the job is doing now.
    public func report(_ percent: Int, _ message: String? = nil) { update(min(100, max(0, percent)), message) }

    /// A queued job got its turn: it shows as Running from now on.
    public func started() { start() }

    package init(jobID: String, update: @escaping @Sendable (Int?, String?) -> Void, start: @escaping @Sendable () -> Void) {
        self.jobID = jobID
        self.update = update
        self.start = start
    }

    /// A part of this job's work (one VM of several): its messages go to this job, prefixed with
    /// `label`; its percent is not shown (the whole job reports its own).
    package func part(_ label: String) -> JobProgress {
        let update = self.update
        return JobProgress(jobID: jobID, update: { _, message in
            if let message { update(nil, "\(label): \(message)") }
        }, start: {})
    }
}

/// Runs long operations as jobs with an id, state, percent complete and cancel, like Hyper-V's
/// WMI jobs. Running jobs (and the most recent finished ones) are kept in memory; every state
/// change is stored in the inventory, so the history outlives a restart, within its retention.
public final class JobManager: Sendable {
    private struct Entry {
        var info: JobInfo
        var task: Task<Void, Never>?
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let inventory: Inventory
    private let logger: Logger
    /// Clients following the event stream hear every change of every job.
    private let feed: LiveFeed

    package init(inventory: Inventory, logger: Logger, feed: LiveFeed) {
        self.inventory = inventory
        self.logger = logger
        self.feed = feed
    }

    /// Starts `body` as a job and returns the job as it is now: Running, or Queued when `queued`
    /// (the body then calls `progress.started()` once it gets its turn).
    /// The body's return value becomes the job's final status message.
    @discardableResult
    public func start(kind: String, vm: String?, description: String, queued: Bool = false,
                      body: @escaping @Sendable (JobProgress) async throws -> String?) -> JobInfo {
        let id = UUID().uuidString.lowercased()
        let info = JobInfo(id: id, kind: kind, vm: vm, description: description, state: queued ? .queued : .running,
                           percentComplete: 0, statusMessage: queued ? "waiting for a free slot" : nil, error: nil,
                           createdAt: Date(), finishedAt: nil)
        entries.withLock { $0[id] = Entry(info: info, task: nil) }
        persist(info)
        let progress = JobProgress(jobID: id) { [weak self] percent, message in
            let changed = self?.entries.withLock { entries -> JobInfo? in
                guard var entry = entries[id], !entry.info.state.isFinished else { return nil }
                let before = entry.info
                if let percent { entry.info.percentComplete = percent }
                if let message { entry.info.statusMessage = message }
                entries[id] = entry
                return before.percentComplete == entry.info.percentComplete && before.statusMessage == entry.info.statusMessage
                    ? nil : entry.info
            }
            if let changed { self?.feed.publish(StreamItem(job: changed)) }
        } start: { [weak self] in
            let info = self?.entries.withLock { entries -> JobInfo? in
                guard var entry = entries[id], entry.info.state == .queued else { return nil }
                entry.info.state = .running
                entry.info.statusMessage = nil
                entries[id] = entry
                return entry.info
            }
            if let info { self?.persist(info) }
        }
        let task = Task { [self] in
            let outcome: Result<String?, any Error>
            do { outcome = .success(try await body(progress)) } catch { outcome = .failure(error) }
            finish(id: id, outcome: outcome)
        }
        entries.withLock { $0[id]?.task = task }
        return info
    }

    /// The shortest prefix `jobs show` and `jobs cancel` accept (`viridian jobs` prints 8 characters).
    package static let minimumPrefix = 4

    /// The job with `id`, or with the one id that starts with it, live or from the history.
    public func job(id: String) throws -> JobInfo {
        let id = try resolve(id)
        if let live = entries.withLock({ $0[id]?.info }) { return live }
        if let stored = try inventory.job(id: id) { return stored }
        throw ViridianError(.notFound, "no job with id \(id)")
    }

    /// The full id for `text`: itself when a job has it, else the one job id it begins.
    /// - Throws: `notFound` when none matches, `invalidArgument` when it is too short or several match.
    package func resolve(_ text: String) throws -> String {
        let key = text.lowercased()
        if entries.withLock({ $0[key] != nil }) { return key }
        if try inventory.job(id: key) != nil { return key }
        guard key.count >= Self.minimumPrefix else {
            throw ViridianError(.invalidArgument, "'\(text)' is too short to name a job; give at least \(Self.minimumPrefix) characters of its id (see: viridian jobs)")
        }
        let live = entries.withLock { $0.keys.filter { $0.hasPrefix(key) } }
        let matches = Set(live + (try inventory.jobIDs(withPrefix: key, limit: 2)))
        guard let first = matches.first else { throw ViridianError(.notFound, "no job with id \(text) (see: viridian jobs)") }
        guard matches.count == 1 else {
            throw ViridianError(.invalidArgument, "'\(text)' begins the ids of several jobs; give more of the id (see: viridian jobs)")
        }
        return first
    }

    /// The jobs in memory now (queued, running, or just finished), without the stored history.
    public var live: [JobInfo] {
        entries.withLock { $0.values.map(\.info) }
    }

    /// Live jobs and recent history, oldest first.
    public func list(limit: Int = 200) throws -> [JobInfo] {
        let live = self.live
        let liveIDs = Set(live.map(\.id))
        let stored = try inventory.recentJobs(limit: limit).filter { !liveIDs.contains($0.id) }
        return Array((stored + live).sorted { $0.createdAt < $1.createdAt }.suffix(limit))
    }

    /// Asks a running job to stop; it ends as Cancelled once its body has undone its work.
    public func cancel(id: String) throws -> JobInfo {
        let id = try resolve(id)
        let (info, task) = try entries.withLock { entries -> (JobInfo, Task<Void, Never>?) in
            guard let entry = entries[id] else { throw ViridianError(.notFound, "no running job with id \(id)") }
            return (entry.info, entry.task)
        }
        guard !info.state.isFinished else {
            throw ViridianError(.invalidState, "job \(id) has already finished (\(info.state.rawValue))")
        }
        task?.cancel()
        return info
    }

    /// Cancels every running job (daemon shutdown).
    package func cancelAll() async {
        let tasks = entries.withLock { $0.values.compactMap(\.task) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func finish(id: String, outcome: Result<String?, any Error>) {
        let info = entries.withLock { entries -> JobInfo? in
            guard var entry = entries[id] else { return nil }
            switch outcome {
            case .success(let message):
                entry.info.state = .completed
                entry.info.percentComplete = 100
                if let message { entry.info.statusMessage = message }
            case .failure(let error):
                let viridian = ViridianError.wrapping(error)
                entry.info.state = viridian.code == .cancelled ? .cancelled : .failed
                entry.info.error = ErrorResponse(viridian).error
            }
            entry.info.finishedAt = Date()
            entry.task = nil
            entries[id] = entry
            return entry.info
        }
        if let info {
            logger.info("job finished", metadata: ["job": "\(id)", "kind": "\(info.kind)", "state": "\(info.state.rawValue)"])
            if persist(info) { forgetOldFinished() }
        }
    }

    /// Finished jobs kept in memory besides the inventory's history (which answers for the rest).
    package static let finishedInMemory = 200

    /// Drops finished jobs from memory beyond the newest `finishedInMemory`; the inventory keeps them.
    private func forgetOldFinished() {
        entries.withLock { entries in
            let finished = entries.values.filter { $0.info.state.isFinished }
            guard finished.count > Self.finishedInMemory else { return }
            for entry in finished.sorted(by: { $0.info.createdAt < $1.info.createdAt }).dropLast(Self.finishedInMemory) {
                entries[entry.info.id] = nil
            }
        }
    }

    /// Removes finished jobs from the history beyond `retention`; returns how many went.
    package func prune(_ retention: Retention, now: Date = Date()) throws -> Int {
        try inventory.pruneJobs(keeping: retention.maxCount, olderThan: now.addingTimeInterval(-Double(retention.maxAgeDays) * 86_400))
    }

    @discardableResult
    private func persist(_ info: JobInfo) -> Bool {
        feed.publish(StreamItem(job: info))
        do {
            try inventory.save(info)
            return true
        } catch {
            logger.error("cannot store job", metadata: ["job": "\(info.id)", "error": "\(error)"])
            return false
        }
    }
}
