import APITypes

/// The NBD exports being served, at most one per VM, each holding its VM's turn until it ends.
/// Taking an export out is how it ends, so it ends once however many ways end it at the same time
/// (a stop, its timeout, its worker's exit).
actor PullExports {
    /// One export and what ending it needs.
    struct Session: Sendable {
        var info: BackupExportInfo
        var vmID: String
        var disks: [PullExport.Disk]
        var trackedDisks: [TrackedDisk]
        var export: PullExport
        /// The storage daemon serving an Off VM's disks.
        var daemon: StorageDaemon?
        var tracking: ChangeTracking
        /// The tracking as it was before the export: put back when the export fails.
        var trackingBefore: TrackingState
        var withBitmap: Bool
        /// True when the tracking started over at the instant (a completed export becomes the next base).
        var restartsTracking: Bool
        var folder: String
    }

    private var sessions: [String: Session] = [:]
    private var endings: [String: Task<Void, Never>] = [:]

    func add(_ session: Session, ending: Task<Void, Never>) {
        sessions[session.vmID] = session
        endings[session.vmID] = ending
    }

    /// The export of the VM named `name`, if it has one.
    func info(ofVM name: String) -> BackupExportInfo? {
        sessions.values.first { $0.info.vm.lowercased() == name.lowercased() }?.info
    }

    /// Takes the export of the VM named `name` out (its timeout and watch stop); nil when it has none or it already ended.
    func take(vm name: String) -> Session? {
        guard let id = sessions.values.first(where: { $0.info.vm.lowercased() == name.lowercased() })?.vmID else { return nil }
        return take(id: id)
    }

    /// Takes the export of VM `id` out; nil when it already ended.
    func take(id: String) -> Session? {
        endings.removeValue(forKey: id)?.cancel()
        return sessions.removeValue(forKey: id)
    }

    /// Takes every export out.
    func takeAll() -> [Session] {
        sessions.keys.compactMap { take(id: $0) }
    }
}
