/// String helpers FoundationEssentials lacks (the agent avoids full Foundation to stay small).
enum GuestText {
    /// `text` without leading and trailing whitespace, newlines and the given extra characters.
    static func trimmed<S: StringProtocol>(_ text: S, also extra: Set<Character> = []) -> String {
        let drop: (Character) -> Bool = { $0.isWhitespace || $0.isNewline || extra.contains($0) }
        guard let first = text.firstIndex(where: { !drop($0) }), let last = text.lastIndex(where: { !drop($0) }) else {
            return ""
        }
        return String(text[first...last])
    }
}
