/// The one rule for every name a user gives (VMs, switches, images, peers' labels): 1–64 ASCII
/// letters, digits, `.`, `_` and `-`, starting with a letter or digit, so that a name is safe as
/// a file name, in a URL and on a terminal. Switch names may also hold single spaces between
/// words, as Hyper-V's do ("Default Switch"). Errors quote at most a short prefix of the input.
public enum NameRule {
    /// Throws `invalidArgument` unless `name` follows the rule; `what` names the kind ("VM name").
    public static func validate(_ name: String, what: String, spaces: Bool = false) throws {
        guard !name.isEmpty else { throw ViridianError(.invalidArgument, "a \(what) cannot be empty") }
        guard name.unicodeScalars.count <= HyperVLimits.nameMaxLength else {
            throw ViridianError(.invalidArgument, "\(what) '\(Quote.prefix(name))' is longer than \(HyperVLimits.nameMaxLength) characters")
        }
        let scalars = Array(name.unicodeScalars)
        let allowed = scalars.indices.allSatisfy { index in
            let scalar = scalars[index]
            if isAlphanumeric(scalar) || "._-".unicodeScalars.contains(scalar) { return true }
            // A space only between two other characters, never two in a row.
            return spaces && scalar == " " && index > 0 && index < scalars.count - 1 && scalars[index - 1] != " "
        }
        guard isAlphanumeric(scalars[0]), allowed else {
            throw ViridianError(.invalidArgument, "\(what) '\(Quote.prefix(name))' is invalid: use letters, digits, '.', '_' and '-'"
                                + (spaces ? " and single spaces between words" : "") + ", starting with a letter or digit")
        }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}

/// The one rule for free text (notes on VMs and switches): at most `HyperVLimits.notesMaxLength`
/// characters, stored exactly as given, with no control characters but tab and line breaks and
/// no bidirectional overrides (which make a terminal show other text than is stored).
public enum FreeText {
    public static func validate(_ text: String, what: String) throws {
        guard text.count <= HyperVLimits.notesMaxLength else {
            throw ViridianError(.invalidArgument, "\(what) are longer than \(HyperVLimits.notesMaxLength) characters")
        }
        let refused = text.unicodeScalars.first { scalar in
            (scalar.value < 0x20 && !["\t", "\n", "\r"].contains(scalar)) || scalar.value == 0x7f
                || (0x80...0x9f).contains(scalar.value) || (0x202a...0x202e).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value)
        }
        if let refused {
            throw ViridianError(.invalidArgument, "\(what) cannot hold the control character U+\(String(refused.value, radix: 16, uppercase: true))")
        }
    }
}

/// Quoting user input in messages: a short prefix, never the whole value.
public enum Quote {
    /// At most `limit` characters of `text`, with `…` when it was longer; control characters shown as `?`.
    public static func prefix(_ text: String, limit: Int = 40) -> String {
        let shown = String(text.prefix(limit).unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
        return text.count > limit ? shown + "…" : shown
    }
}
