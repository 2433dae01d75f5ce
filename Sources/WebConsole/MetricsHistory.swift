import Foundation

/// A graph's point: rates over the interval before `time`.
public struct MetricsPoint: Codable, Sendable, Equatable {
    public var time: Date
    /// CPU use as a percentage of one processor (200 = two processors busy).
    public var cpuPercent: Double
    public var memoryBytes: Double
    public var diskReadBytesPerSecond: Double
    public var diskWriteBytesPerSecond: Double
    public var networkReceiveBytesPerSecond: Double
    public var networkTransmitBytesPerSecond: Double

    static func average(_ points: [MetricsPoint], at time: Date) -> MetricsPoint {
        let count = Double(max(points.count, 1))
        func mean(_ value: KeyPath<MetricsPoint, Double>) -> Double { points.reduce(0) { $0 + $1[keyPath: value] } / count }
        return MetricsPoint(time: time, cpuPercent: mean(\.cpuPercent), memoryBytes: mean(\.memoryBytes),
                            diskReadBytesPerSecond: mean(\.diskReadBytesPerSecond), diskWriteBytesPerSecond: mean(\.diskWriteBytesPerSecond),
                            networkReceiveBytesPerSecond: mean(\.networkReceiveBytesPerSecond),
                            networkTransmitBytesPerSecond: mean(\.networkTransmitBytesPerSecond))
    }
}

/// One VM's graph data, bounded: the last hour at the sampling interval (360 points at 10 s) and
/// 30 days of hourly averages (720 points).
public struct MetricsHistory: Sendable {
    public static let recentCapacity = 360
    public static let rollupCapacity = 720
    public private(set) var recent: [MetricsPoint] = []
    public private(set) var hourly: [MetricsPoint] = []
    private var pendingHour: [MetricsPoint] = []

    /// A history with stored hourly averages (the archive's), oldest first.
    public init(hourly: [MetricsPoint] = []) {
        self.hourly = Array(hourly.suffix(Self.rollupCapacity))
    }

    /// Adds a point; a point in a new hour closes the previous hour's average, which it returns.
    @discardableResult
    public mutating func append(_ point: MetricsPoint) -> MetricsPoint? {
        var closed: MetricsPoint?
        if let first = pendingHour.first, Self.hour(of: first.time) != Self.hour(of: point.time) {
            let average = MetricsPoint.average(pendingHour, at: Self.hour(of: first.time))
            hourly.append(average)
            if hourly.count > Self.rollupCapacity { hourly.removeFirst(hourly.count - Self.rollupCapacity) }
            pendingHour.removeAll()
            closed = average
        }
        pendingHour.append(point)
        recent.append(point)
        if recent.count > Self.recentCapacity { recent.removeFirst(recent.count - Self.recentCapacity) }
        return closed
    }

    /// The hourly averages including the hour in progress.
    public var month: [MetricsPoint] {
        guard let first = pendingHour.first else { return hourly }
        return hourly + [MetricsPoint.average(pendingHour, at: Self.hour(of: first.time))]
    }

    static func hour(of time: Date) -> Date {
        Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }
}
