import Foundation
import Inventory

/// Tells the first viridiand start after a host boot from a restart of the daemon alone, by the
/// kernel's boot id, so that `AutomaticStartAction.start` starts VMs once per boot, not at every
/// daemon restart.
enum HostBoot {
    static let bootIDFile = "/proc/sys/kernel/random/boot_id"
    static let settingKey = "lastBootID"

    /// True when viridiand has not started since this boot (by the id in `bootIDFile`); records
    /// this boot. A host without a boot id, or a state directory that never recorded one, does not count as restarted.
    static func isFirstStartSinceBoot(_ inventory: Inventory, bootIDFile: String = bootIDFile) throws -> Bool {
        guard let bootID = try? String(contentsOfFile: bootIDFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              !bootID.isEmpty else { return false }
        let previous = try inventory.setting(settingKey)
        guard previous != bootID else { return false }
        try inventory.setSetting(settingKey, bootID)
        // The first start of all (or the first since Viridian recorded boots) cannot tell.
        return previous != nil
    }
}
