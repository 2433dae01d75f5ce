import APITypes
import Crypto
import Foundation

/// SHA-256 of every 4 MiB of a repository file, taken when it is written and read again by
/// `backup verify`: a flipped byte anywhere in a point (data or metadata) is found, and where.
struct FileChecksums: Codable, Sendable, Equatable {
    static let chunkBytes = 4 << 20

    var size: Int64
    var chunks: [String]

    /// Reads `path` through.
    init(of path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ViridianError(.notFound, "cannot read \(path)")
        }
        defer { try? handle.close() }
        var chunks: [String] = []
        var size: Int64 = 0
        while true {
            try Task.checkCancellation()
            guard let data = try handle.read(upToCount: Self.chunkBytes), !data.isEmpty else { break }
            size += Int64(data.count)
            chunks.append(SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())
        }
        self.size = size
        self.chunks = chunks
    }

    /// The first difference from `expected`, in words, or nil.
    func difference(from expected: FileChecksums) -> String? {
        if let index = zip(chunks, expected.chunks).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            let start = Int64(index) * Int64(Self.chunkBytes)
            return "bytes \(start) to \(min(start + Int64(Self.chunkBytes), size) - 1) differ from the checksum taken when they were written"
        }
        if size != expected.size { return "the file is \(size) bytes, not the \(expected.size) written" }
        return nil
    }
}
