/// Bounds on file copies with a guest.
public enum FileCopyLimits {
    /// The largest file accepted from a guest (16 GiB).
    public static let maximumFromGuest: Int64 = 16 << 30
    /// Longest wait for the next piece of a transfer.
    public static let stallTimeout: Duration = .seconds(30)
    /// Bytes per data frame or guest-agent read.
    public static let chunkSize = 256 * 1024
}

/// Reports bytes done out of a total.
public typealias CopyProgress = @Sendable (_ done: Int64, _ total: Int64) -> Void
