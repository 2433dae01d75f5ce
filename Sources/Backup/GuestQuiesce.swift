import APITypes
import HostServices

/// A running guest's file systems frozen for the instant of a point in time (the VSS service, or
/// qemu-guest-agent), for a backup or an export. A guest that cannot freeze gives a crash-consistent
/// point and a warning event, never a failure.
struct GuestQuiesce: Sendable {
    let subject: BackupSubject
    /// True: no freeze at all.
    let crashConsistent: Bool
    let events: EventLog
    /// What the point is, for the event log: "the backup", "the export".
    let what: String

    /// Freezes the guest; true when it froze.
    func freeze() async -> Bool {
        let vm = subject.record
        guard !crashConsistent else { return false }
        guard vm.state == .running, let hub = subject.hub else {
            events.record(.warning, .backup, vm: vm.name, "VM '\(vm.name)' is \(vm.state.rawValue), so its guest cannot freeze; \(what) is crash-consistent")
            return false
        }
        do {
            _ = try await hub.freeze(timeoutSeconds: 30)
            return true
        } catch {
            events.record(.warning, .backup, vm: vm.name, "VM '\(vm.name)': the guest could not freeze its file systems "
                          + "(\(ViridianError.wrapping(error).message)); \(what) is crash-consistent")
            return false
        }
    }

    /// Thaws what `freeze` froze.
    func thaw() async {
        let vm = subject.record
        guard !crashConsistent, vm.state == .running, let hub = subject.hub else { return }
        do {
            _ = try await hub.thaw()
        } catch {
            events.record(.warning, .backup, vm: vm.name, "VM '\(vm.name)': thawing the guest's file systems failed "
                          + "(\(ViridianError.wrapping(error).message)); it thaws them itself after 30 s")
        }
    }
}
