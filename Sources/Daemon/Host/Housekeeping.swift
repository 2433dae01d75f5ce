import APITypes
import Foundation
import HostServices
import Synchronization

/// The daemon's periodic upkeep, so that nothing grows without bound: console logs of running VMs
/// rotate (`ConsoleLogRotation`), and the event log and the job history are kept within the
/// host's retention (`viridian host set --keep-events …`).
final class Housekeeping: Sendable {
    /// How often console logs are checked; a guest printing at full speed overshoots the cap by at most this much output.
    static let consoleInterval = Duration.seconds(10)
    /// How many console checks between two history prunes (10 minutes).
    static let pruneEvery = 60

    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts the upkeep loop; the first round prunes at once.
    func start(vms: VMManager, jobs: JobManager, events: EventLog, settings: HostSettingsStore) {
        let loop = Task {
            var round = 0
            while !Task.isCancelled {
                if round % Self.pruneEvery == 0 {
                    Self.pruneHistory(jobs: jobs, events: events, settings: settings.settings)
                }
                await vms.rotateConsoleLogs()
                round += 1
                try? await Task.sleep(for: Self.consoleInterval)
            }
        }
        task.withLock { $0 = loop }
    }

    func stop() {
        task.withLock { $0?.cancel() }
    }

    /// Deletes events and finished jobs beyond the retention; a failure is logged, never fatal.
    static func pruneHistory(jobs: JobManager, events: EventLog, settings: HostSettings, now: Date = Date()) {
        do {
            let cutoff = now.addingTimeInterval(-Double(settings.events.maxAgeDays) * 86_400)
            let removedEvents = try events.inventory.pruneEvents(keeping: settings.events.maxCount, olderThan: cutoff)
            let removedJobs = try jobs.prune(settings.jobs, now: now)
            if removedEvents + removedJobs > 0 {
                events.logger.info("pruned the history", metadata: ["events": "\(removedEvents)", "jobs": "\(removedJobs)"])
            }
        } catch {
            events.logger.error("cannot prune the event log and job history", metadata: ["error": "\(error)"])
        }
    }
}
