/// Durations as users type them: `90`, `90s`, `2m`, `1h` (seconds when no unit is given).
public enum DurationText {
    /// Whole seconds in `text`. - Throws: `invalidArgument` naming the accepted forms.
    public static func parseSeconds(_ text: String) throws -> Int {
        let trimmed = text.filter { !$0.isWhitespace }.lowercased()
        let units: [(String, Int)] = [("h", 3600), ("m", 60), ("s", 1)]
        let (number, multiplier) = units.first { trimmed.hasSuffix($0.0) }
            .map { (String(trimmed.dropLast($0.0.count)), $0.1) } ?? (trimmed, 1)
        guard let value = Int(number), value >= 0, value <= Int.max / multiplier else {
            throw ViridianError(.invalidArgument, "'\(text)' is not a duration; write seconds (90, 90s), minutes (2m) or hours (1h)")
        }
        return value * multiplier
    }
}
