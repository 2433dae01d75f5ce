import APITypes
import Hummingbird

/// The query string of a request, read strictly: a value the route cannot use is refused with a
/// message naming the parameter and what it takes, never read as the default.
extension Request {
    /// The parameter's text, if given.
    func queryText(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map(String.init)
    }

    /// A `true`/`false` flag; absent is false.
    func queryFlag(_ name: String) throws -> Bool {
        switch queryText(name) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw ViridianError(.invalidArgument, "the query parameter '\(name)' is true or false, not '\(Quote.prefix(other))'")
        }
    }

    /// A whole number within `range`, if given.
    func queryInteger(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = queryText(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ViridianError(.invalidArgument,
                                "the query parameter '\(name)' is a whole number from \(range.lowerBound) to \(range.upperBound), not '\(Quote.prefix(text))'")
        }
        return value
    }

    /// One of the cases of `Choice` (matched without regard to case), if given.
    func queryChoice<Choice: RawRepresentable & CaseIterable>(_ name: String, as _: Choice.Type) throws -> Choice?
    where Choice.RawValue == String {
        guard let text = queryText(name) else { return nil }
        guard let choice = Choice.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw ViridianError(.invalidArgument, "the query parameter '\(name)' is one of \(names), not '\(Quote.prefix(text))'")
        }
        return choice
    }
}
