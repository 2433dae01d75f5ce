import APITypes
import Foundation

/// A file of a backup point once it is written: on disk before the chain names it, with its checksums.
enum PointFile {
    /// Flushes `path` to disk while its checksums are taken: the flush waits on the disk and the
    /// hashing on the processors, so each hides most of the other. The copies leave their data in
    /// the page cache (`qemu-img convert`, backup targets opened without flushes), so this is where
    /// a point becomes durable.
    static func seal(_ path: String) async throws -> FileChecksums {
        async let flushed: Void = flush(path)
        let checksums = try await FileChecksums(of: path)
        try await flushed
        return checksums
    }

    /// `fsync` on a thread of its own, so that a slow disk holds no thread of the task pool.
    static func flush(_ path: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global(qos: .utility).async {
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    continuation.resume(throwing: ViridianError(.notFound, "cannot open \(path) to flush it: \(String(cString: strerror(errno)))"))
                    return
                }
                defer { close(descriptor) }
                guard fsync(descriptor) == 0 else {
                    continuation.resume(throwing: ViridianError(.engineFailure, "cannot flush \(path) to disk: \(String(cString: strerror(errno)))"))
                    return
                }
                continuation.resume()
            }
        }
    }
}
