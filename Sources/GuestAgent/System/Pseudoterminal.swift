import CGuestSystem
#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal pair for interactive sessions.
struct Pseudoterminal {
    var master: Int32
    var slave: Int32
    var slavePath: String

    static func open(columns: Int, rows: Int) throws(SystemError) -> Pseudoterminal {
        var name = [CChar](repeating: 0, count: 128)
        let master = viridian_open_pty_master(&name, UInt(name.count))
        guard master >= 0 else { throw SystemError(operation: "opening a pseudo-terminal", code: errno) }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let slave = Glibc.open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            let code = errno
            close(master)
            throw SystemError(operation: "open \(path)", code: code)
        }
        resize(master, columns: columns, rows: rows)
        return Pseudoterminal(master: master, slave: slave, slavePath: path)
    }

    /// Sets the terminal size the program sees.
    static func resize(_ master: Int32, columns: Int, rows: Int) {
        var size = winsize(ws_row: UInt16(clamping: rows), ws_col: UInt16(clamping: columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }
}
