import APITypes
import Foundation

/// An exclusive lock on the image cache, so concurrent builds (several daemons, parallel tests)
/// take turns instead of racing on the same downloads.
struct CacheLock {
    private let descriptor: Int32

    /// Waits (without blocking a thread) until the lock at `path` is free, then takes it.
    static func acquire(_ path: String, timeout: Duration = .seconds(600)) async throws -> CacheLock {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ViridianError(.internalError, "cannot open the cache lock \(path): errno \(errno)")
        }
        let deadline = ContinuousClock.now + timeout
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard ContinuousClock.now < deadline else {
                close(descriptor)
                throw ViridianError(.timeout, "another image build holds \(path)")
            }
            do { try await Task.sleep(for: .milliseconds(100)) } catch {
                close(descriptor)
                throw error
            }
        }
        return CacheLock(descriptor: descriptor)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
