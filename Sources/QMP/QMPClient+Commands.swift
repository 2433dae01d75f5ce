/// The run state QEMU reports (`query-status`).
public struct QMPStatus: Sendable {
    /// `running`, `paused`, `shutdown`, `inmigrate`, `postmigrate`, `prelaunch`…
    public var status: String
    public var running: Bool
}

/// Progress of a migration, including a save to a file (`query-migrate`).
public struct QMPMigrationInfo: Sendable {
    /// `none`, `setup`, `active`, `completed`, `failed`, `cancelled`…
    public var status: String
    public var transferredBytes: Int64
    public var totalBytes: Int64
    public var remainingBytes: Int64
    public var errorDescription: String?
    /// Milliseconds the guest was paused at switchover (once completed).
    public var downtimeMilliseconds: Int64? = nil
    /// Milliseconds from start to completion (once completed).
    public var totalMilliseconds: Int64? = nil
    /// The current transfer rate, megabits per second.
    public var megabitsPerSecond: Double = 0
    /// Everything sent so far, including multifd channels and device state.
    public var totalTransferredBytes: Int64 = 0

    /// 0–100, from RAM transferred against RAM to transfer.
    public var percent: Int {
        if status == "completed" { return 100 }
        guard totalBytes > 0 else { return 0 }
        return Int(min(99, max(0, (totalBytes - remainingBytes) * 100 / totalBytes)))
    }
}

extension QMPClient {
    /// `query-status`.
    public func queryStatus(timeout: Duration = .seconds(30)) async throws -> QMPStatus {
        let reply = try await execute("query-status", timeout: timeout)
        return QMPStatus(status: reply["status"]?.stringValue ?? "unknown", running: reply["running"]?.boolValue ?? false)
    }

    /// The versioned machine type the worker runs (`qom-get /machine type`, `pc-i440fx-10.0-machine`
    /// without its `-machine` suffix).
    public func machineType() async throws -> String {
        let reply = try await execute("qom-get", arguments: ["path": .string("/machine"), "property": .string("type")])
        guard let type = reply.stringValue, type.hasSuffix("-machine") else {
            throw QMPError.commandFailed(command: "qom-get", errorClass: "GenericError", description: "the machine has no type")
        }
        return String(type.dropLast("-machine".count))
    }

    /// `stop`: pause the guest's vCPUs.
    public func stop() async throws { try await execute("stop") }

    /// `cont`: resume the guest's vCPUs.
    public func cont() async throws { try await execute("cont") }

    /// `system_powerdown`: press the ACPI power button.
    public func systemPowerdown() async throws { try await execute("system_powerdown") }

    /// `system_reset`: hard reset, like pressing the reset button.
    public func systemReset() async throws { try await execute("system_reset") }

    /// `quit`: end the QEMU process at once (turn the VM off).
    public func quit() async throws { try await execute("quit") }

    /// `migrate`: stream the VM's state to `uri` (`exec:…` for a saved-state file, `tcp:…` for a host).
    public func migrate(uri: String) async throws { try await execute("migrate", arguments: ["uri": .string(uri)]) }

    /// `migrate-incoming`: load the VM's state from `uri` (QEMU started with `-incoming defer`).
    public func migrateIncoming(uri: String) async throws {
        try await execute("migrate-incoming", arguments: ["uri": .string(uri)])
    }

    /// `migrate_cancel`.
    public func migrateCancel() async throws { try await execute("migrate_cancel") }

    /// `query-migrate`.
    public func queryMigrate() async throws -> QMPMigrationInfo {
        let reply = try await execute("query-migrate")
        let ram = reply["ram"]
        return QMPMigrationInfo(status: reply["status"]?.stringValue ?? "none",
                                transferredBytes: ram?["transferred"]?.intValue ?? 0,
                                totalBytes: ram?["total"]?.intValue ?? 0,
                                remainingBytes: ram?["remaining"]?.intValue ?? 0,
                                errorDescription: reply["error-desc"]?.stringValue,
                                downtimeMilliseconds: reply["downtime"]?.intValue,
                                totalMilliseconds: reply["total-time"]?.intValue,
                                megabitsPerSecond: ram?["mbps"]?.doubleValue ?? 0,
                                totalTransferredBytes: (ram?["transferred"]?.intValue ?? 0)
                                    + (reply["disk"]?["transferred"]?.intValue ?? 0))
    }
}

/// One attached drive's I/O counters (`query-blockstats`).
public struct QMPBlockStats: Sendable, Equatable {
    public var readBytes: Int64
    public var writeBytes: Int64
    public var readOperations: Int64
    public var writeOperations: Int64
}

extension QMPClient {
    /// The counters of every drive attached to a device (one entry per block backend).
    public func blockStats(timeout: Duration = .seconds(5)) async throws -> [QMPBlockStats] {
        let reply = try await execute("query-blockstats", timeout: timeout)
        return (reply.arrayValue ?? []).compactMap { entry in
            guard let stats = entry["stats"] else { return nil }
            return QMPBlockStats(readBytes: stats["rd_bytes"]?.intValue ?? 0, writeBytes: stats["wr_bytes"]?.intValue ?? 0,
                                 readOperations: stats["rd_operations"]?.intValue ?? 0,
                                 writeOperations: stats["wr_operations"]?.intValue ?? 0)
        }
    }
}
