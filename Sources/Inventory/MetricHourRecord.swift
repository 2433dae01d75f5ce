import Foundation
import GRDB

/// One hour's average of a VM's (or the host's) graph, kept 30 days so the month graph survives a
/// daemon restart. `point` is the web console's JSON for it; the inventory does not read it.
public struct MetricHourRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "metricHour"

    /// The VM's name, or "" for the host.
    public var key: String
    public var hour: Date
    public var point: String

    public init(key: String, hour: Date, point: String) {
        self.key = key
        self.hour = hour
        self.point = point
    }
}

extension Inventory {
    /// Stores (or replaces) an hour's average.
    public func save(_ hour: MetricHourRecord) throws {
        try write { try hour.save($0) }
    }

    /// Every stored hour since `since`, oldest first.
    public func metricHours(since: Date) throws -> [MetricHourRecord] {
        try read { try MetricHourRecord.filter(Column("hour") >= since).order(Column("hour")).fetchAll($0) }
    }

    /// Deletes hours before `before`, and every hour of keys not in `keeping`; returns how many went.
    @discardableResult
    public func pruneMetricHours(before: Date, keeping: Set<String>) throws -> Int {
        var deleted = 0
        try write { db in
            deleted = try MetricHourRecord.filter(Column("hour") < before || !keeping.contains(Column("key"))).deleteAll(db)
        }
        return deleted
    }
}
