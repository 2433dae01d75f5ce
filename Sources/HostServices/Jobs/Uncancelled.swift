/// Runs clean-up work to the end even when the calling task was cancelled: a cancelled job
/// must still stop its migration, resume its VM and tell its peer, and those calls would
/// otherwise fail at once on the cancelled task.
package func uncancelled<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    await Task { await body() }.value
}
