import APITypes
import Foundation
import Inventory
import Synchronization

/// The host's migration and memory settings (`viridian host set`), stored in the inventory.
package final class HostSettingsStore: Sendable {
    private static let key = "host"
    private let inventory: Inventory
    private let current: Mutex<HostSettings>
    /// Why the stored settings could not be used (the defaults apply then), for the event log.
    package let loadWarning: String?

    package init(inventory: Inventory) throws {
        self.inventory = inventory
        var settings = HostSettings.defaults
        var warning: String?
        if let stored = try inventory.setting(Self.key) {
            do {
                settings = try WireJSON.decoder().decode(HostSettings.self, from: Data(stored.utf8))
            } catch {
                warning = "the stored host settings cannot be read (\(error)); the defaults apply until 'viridian host set' stores new ones"
            }
        }
        loadWarning = warning
        current = Mutex(settings)
    }

    package var settings: HostSettings { current.withLock { $0 } }

    /// Applies a change after checking every value; nothing changes when one is invalid.
    package func update(_ request: SetHostSettingsRequest, physicalMemoryMiB: Int) throws -> HostSettings {
        var settings = self.settings
        for (value, name) in [(request.maxMigrations, "--max-migrations"), (request.maxStorageMigrations, "--max-storage-migrations")] {
            if let value, !HostSettings.limitRange.contains(value) {
                throw ViridianError(.invalidArgument, "\(name) must be \(HostSettings.limitRange.lowerBound) to \(HostSettings.limitRange.upperBound), not \(value)")
            }
        }
        if let networks = request.migrationNetworks {
            settings.migrationNetworks = try networks.map { try IPNetwork(parsing: $0).description }
        }
        if let reserve = request.memoryReserveMiB {
            guard (0..<physicalMemoryMiB).contains(reserve) else {
                throw ViridianError(.invalidArgument, "--memory-reserve must be 0 to \(physicalMemoryMiB - 1) MiB, not \(reserve)")
            }
            settings.memoryReserveMiB = reserve
        }
        for (value, name) in [(request.keepEvents, "--keep-events"), (request.keepJobs, "--keep-jobs")] {
            if let value, !Retention.countRange.contains(value) {
                throw ViridianError(.invalidArgument, "\(name) must be \(Retention.countRange.lowerBound) to \(Retention.countRange.upperBound), not \(value)")
            }
        }
        for (value, name) in [(request.keepEventsDays, "--keep-events-days"), (request.keepJobsDays, "--keep-jobs-days")] {
            if let value, !Retention.daysRange.contains(value) {
                throw ViridianError(.invalidArgument, "\(name) must be \(Retention.daysRange.lowerBound) to \(Retention.daysRange.upperBound), not \(value)")
            }
        }
        settings.events.maxCount = request.keepEvents ?? settings.events.maxCount
        settings.events.maxAgeDays = request.keepEventsDays ?? settings.events.maxAgeDays
        settings.jobs.maxCount = request.keepJobs ?? settings.jobs.maxCount
        settings.jobs.maxAgeDays = request.keepJobsDays ?? settings.jobs.maxAgeDays
        settings.maxMigrations = request.maxMigrations ?? settings.maxMigrations
        settings.maxStorageMigrations = request.maxStorageMigrations ?? settings.maxStorageMigrations
        let data = try WireJSON.encoder().encode(settings)
        try inventory.setSetting(Self.key, String(decoding: data, as: UTF8.self))
        current.withLock { $0 = settings }
        return settings
    }

    /// The configured migration networks, parsed.
    package var migrationNetworks: [IPNetwork] {
        settings.migrationNetworks.compactMap { try? IPNetwork(parsing: $0) }
    }
}
