/// Parses and prints sizes the way administrators write them: `512M`, `1G`, `64MiB`, `1048576`.
public enum ByteSize {
    private static let units: [(suffixes: [String], factor: UInt64)] = [
        (["t", "tb", "tib"], 1 << 40), (["g", "gb", "gib"], 1 << 30),
        (["m", "mb", "mib"], 1 << 20), (["k", "kb", "kib"], 1 << 10), (["", "b"], 1),
    ]

    /// Parses a size in bytes; binary units (a "G" is 2^30 bytes, as in Hyper-V).
    public static func parse(_ text: String) throws -> UInt64 {
        let trimmed = text.trimmingWhitespace().lowercased()
        let digits = trimmed.prefix { $0.isNumber }
        let suffix = String(trimmed.dropFirst(digits.count))
        guard !digits.isEmpty, let number = UInt64(digits),
              let unit = units.first(where: { $0.suffixes.contains(suffix) })
        else {
            throw ViridianError(.invalidArgument, "'\(text)' is not a size; write it like 512M, 4G or 1048576")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit.factor)
        guard !overflow else { throw ViridianError(.invalidArgument, "'\(text)' is too large") }
        return bytes
    }

    /// Parses a size and returns it in whole MiB; a bare number means MiB (`512` = 512 MiB).
    public static func parseMiB(_ text: String) throws -> Int {
        let trimmed = text.trimmingWhitespace()
        if let mib = Int(trimmed) { return mib }
        let bytes = try parse(trimmed)
        guard bytes % (1 << 20) == 0 else {
            throw ViridianError(.invalidArgument, "'\(text)' is not a whole number of MiB")
        }
        return Int(bytes >> 20)
    }

    /// Formats bytes with the largest binary unit that keeps one decimal (`1.5 GiB`).
    public static func format(_ bytes: UInt64) -> String {
        let names = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < names.count - 1 { value /= 1024; index += 1 }
        if index == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(names[index])"
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
