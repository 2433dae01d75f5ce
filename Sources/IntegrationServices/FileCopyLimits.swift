/// Bounds on file copies with a guest.
public enum FileCopyLimits {
    /// The largest file accepted from a guest (16 GiB).
    public static let maximumFromGuest: Int64 = 16 << 30
    /// Longest wait for the next piece of a transfer.
    public static let stallTimeout: Duration = .seconds(30)
    /// Bytes per data frame to the Viridian agent: the most a frame carries, so the guest writes
    /// its file in 1 MiB pieces.
    public static let frameSize = 1024 * 1024
    /// Bytes per qemu-guest-agent read or write (base64 in JSON).
    public static let chunkSize = 256 * 1024
}

/// Reports bytes done out of a total.
public typealias CopyProgress = @Sendable (_ done: Int64, _ total: Int64) -> Void
