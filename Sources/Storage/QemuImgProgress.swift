/// Reads the `(12.34/100%)` progress that `qemu-img convert -p` and `commit -p` print.
enum QemuImgProgress {
    /// A handler for raw output chunks that calls `report` with each new whole percent.
    static func parser(_ report: @escaping @Sendable (Int) -> Void) -> @Sendable (String) -> Void {
        { chunk in
            if let percent = lastPercent(in: chunk) { report(percent) }
        }
    }

    /// The last percent figure in `text`, if any.
    static func lastPercent(in text: String) -> Int? {
        guard let close = text.range(of: "/100%)", options: .backwards),
              let open = text[..<close.lowerBound].lastIndex(of: "("),
              let value = Double(text[text.index(after: open)..<close.lowerBound])
        else { return nil }
        return min(100, max(0, Int(value)))
    }
}
