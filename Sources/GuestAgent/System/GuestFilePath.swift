#if canImport(Glibc)
import Glibc
#endif

/// Guest paths the host sends: absolute, no NUL, bounded length; `.` and `..` resolved lexically.
enum GuestFilePath {
    static func validate(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.contains("\0"), path.utf8.count <= 4096 else { return nil }
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return parts.isEmpty ? nil : "/" + parts.joined(separator: "/")
    }

    /// The folder holding `path` (`/a/b` → `/a`).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Whether `path` is a directory (following links).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
