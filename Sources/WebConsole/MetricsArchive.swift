import Foundation
import Inventory

/// Where the collector keeps hourly averages so the 30-day graphs survive a restart.
public protocol MetricsArchive: Sendable {
    func store(_ key: String, _ point: MetricsPoint) throws
    /// Every stored hour since `since`, by key, oldest first.
    func load(since: Date) throws -> [String: [MetricsPoint]]
    /// Drops hours before `before` and those of keys not in `keeping`.
    func prune(before: Date, keeping: Set<String>) throws
}

/// The archive in the host's inventory (table `metricHour`).
public struct InventoryMetricsArchive: MetricsArchive {
    let inventory: Inventory

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    public func store(_ key: String, _ point: MetricsPoint) throws {
        let json = String(decoding: try JSONEncoder.metrics.encode(point), as: UTF8.self)
        try inventory.save(MetricHourRecord(key: key, hour: point.time, point: json))
    }

    public func load(since: Date) throws -> [String: [MetricsPoint]] {
        var points: [String: [MetricsPoint]] = [:]
        for record in try inventory.metricHours(since: since) {
            points[record.key, default: []].append(try JSONDecoder.metrics.decode(MetricsPoint.self, from: Data(record.point.utf8)))
        }
        return points
    }

    public func prune(before: Date, keeping: Set<String>) throws {
        try inventory.pruneMetricHours(before: before, keeping: keeping)
    }
}

extension JSONEncoder {
    static var metrics: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }
}

extension JSONDecoder {
    static var metrics: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}
