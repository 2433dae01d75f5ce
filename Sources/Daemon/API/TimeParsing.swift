import APITypes
import Foundation

/// Reads the times `--since` accepts: ISO 8601 (`2026-11-22T10:00:00Z`) or an age (`30s`, `15m`, `2h`, `7d`).
enum TimeParsing {
    static func parse(_ text: String, now: Date = Date()) throws -> Date {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let amount = Double(text.dropLast()), amount >= 0 {
            return now.addingTimeInterval(-amount * factor)
        }
        throw ViridianError(.invalidArgument, "'\(text)' is not a time; use ISO 8601 (2026-11-22T10:00:00Z) or an age like 15m, 2h, 7d")
    }
}
