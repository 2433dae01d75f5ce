import APITypes
import CXXHash
import Crypto
import Foundation

/// A checksum of every 4 MiB of a repository file, taken when it is written and read again by
/// `backup verify`: a flipped byte anywhere in a point (data or metadata) is found, and where.
struct FileChecksums: Codable, Sendable, Equatable {
    static let chunkBytes = 4 << 20

    /// How the chunks are hashed. Points are written with XXH3-128 (Debian's libxxhash, about
    /// five times SHA-256's speed here), the class of checksum file systems keep for the same
    /// purpose (btrfs's xxhash, ZFS's fletcher4): it finds corruption, not a forger, who could
    /// rewrite `checksums.json` as easily. Points written before keep SHA-256 and verify with it.
    enum Algorithm: String, Codable, Sendable {
        case sha256
        case xxh3 = "xxh3-128"
    }

    var algorithm: Algorithm
    var size: Int64
    var chunks: [String]

    /// Reads `path` through, on every processor at once (a chunk each in turn).
    init(of path: String, algorithm: Algorithm = .xxh3) async throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw ViridianError(.notFound, "cannot read \(path): \(String(cString: strerror(errno)))") }
        let size = Int64(status.st_size)
        let count = Int((size + Int64(Self.chunkBytes) - 1) / Int64(Self.chunkBytes))
        let lanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count))
        let parts = try await withThrowingTaskGroup(of: [(Int, String)].self) { group in
            for lane in 0..<lanes {
                group.addTask { try Self.hash(path, chunks: Array(stride(from: lane, to: count, by: lanes)), algorithm: algorithm) }
            }
            var all: [(Int, String)] = []
            for try await part in group { all += part }
            return all
        }
        self.algorithm = algorithm
        self.size = size
        chunks = parts.sorted { $0.0 < $1.0 }.map(\.1)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Checksums written before the algorithm was recorded are SHA-256.
        algorithm = try container.decodeIfPresent(Algorithm.self, forKey: .algorithm) ?? .sha256
        size = try container.decode(Int64.self, forKey: .size)
        chunks = try container.decode([String].self, forKey: .chunks)
    }

    /// The checksums of the chunks numbered `indexes` of `path`, read into one buffer reused for
    /// every chunk (a fresh one each time costs as much again as the hashing). Read, not mapped: a
    /// repository file that shrinks or fails under a mapping would kill viridiand (SIGBUS).
    private static func hash(_ path: String, chunks indexes: [Int], algorithm: Algorithm) throws -> [(Int, String)] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ViridianError(.notFound, "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 4096)
        defer { buffer.deallocate() }
        var hashes: [(Int, String)] = []
        for index in indexes {
            try Task.checkCancellation()
            let offset = off_t(index) * off_t(chunkBytes)
            var filled = 0
            while filled < chunkBytes {
                let count = pread(fd, buffer.baseAddress! + filled, chunkBytes - filled, offset + off_t(filled))
                if count == 0 { break }
                if count < 0 {
                    guard errno == EINTR else { throw ViridianError(.engineFailure, "cannot read \(path): \(String(cString: strerror(errno)))") }
                    continue
                }
                filled += count
            }
            hashes.append((index, digest(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]), algorithm)))
        }
        return hashes
    }

    /// One chunk's checksum in hex.
    static func digest(_ bytes: UnsafeRawBufferPointer, _ algorithm: Algorithm) -> String {
        switch algorithm {
        case .sha256:
            var hasher = SHA256()
            hasher.update(bufferPointer: bytes)
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        case .xxh3:
            var high: UInt64 = 0
            var low: UInt64 = 0
            viridian_xxh3_128(bytes.baseAddress, bytes.count, &high, &low)
            return hex(high) + hex(low)
        }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
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
