import APITypes
import Foundation
import GRDB

/// The host's persistent inventory: VMs, images, the event log and job history, in SQLite (WAL)
/// through GRDB. Schema changes are migrations, applied when the daemon opens the database.
public final class Inventory: Sendable {
    let database: DatabasePool

    /// Opens (creating if needed) the inventory at `path` and migrates it to the current schema.
    public init(path: String) throws {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw ViridianError(.internalError, "cannot open the inventory at \(path)", cause: error)
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "vm") { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull().unique().collate(.nocase)
                table.column("state", .text).notNull()
                table.column("configuration", .jsonText).notNull()
                table.column("notes", .text).notNull()
                table.column("image", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("startedAt", .datetime)
            }
            try db.create(table: "image") { table in
                table.primaryKey("name", .text)
                table.column("kernel", .text).notNull()
                table.column("initrd", .text)
                table.column("append", .text)
                table.column("disk", .text).notNull()
                table.column("generation", .integer).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "event") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .datetime).notNull().indexed()
                table.column("level", .text).notNull()
                table.column("source", .text).notNull()
                table.column("vm", .text).indexed()
                table.column("message", .text).notNull()
            }
            try db.create(table: "job") { table in
                table.primaryKey("id", .text)
                table.column("createdAt", .datetime).notNull().indexed()
                table.column("info", .jsonText).notNull()
            }
        }
        migrator.registerMigration("v2-integration") { db in
            try db.create(table: "integration") { table in
                table.primaryKey("vmID", .text).references("vm", onDelete: .cascade)
                table.column("release", .text)
                table.column("agent", .text)
                table.column("hostItems", .jsonText).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v3-hosts") { db in
            try db.create(table: "peer") { table in
                table.primaryKey("name", .text).collate(.nocase)
                table.column("address", .text).notNull()
                table.column("certificate", .text).notNull()
                table.column("addedAt", .datetime).notNull()
            }
            try db.create(table: "setting") { table in
                table.primaryKey("key", .text)
                table.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v4-switches") { db in
            try db.create(table: "switch") { table in
                table.primaryKey("name", .text).collate(.nocase)
                table.column("type", .text).notNull()
                table.column("adapter", .text)
                table.column("allowManagementOS", .boolean).notNull()
                table.column("hostAddress", .text)
                table.column("mtu", .integer).notNull()
                table.column("notes", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v5-disks") { db in
            try db.create(table: "disk") { table in
                table.primaryKey("path", .text)
                table.column("format", .text).notNull()
                table.column("parentPath", .text).indexed()
                table.column("origin", .text).notNull()
                table.column("ownerVMID", .text)
                table.column("recordedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v6-incoming-moves") { db in
            try db.create(table: "incomingMove") { table in
                table.primaryKey("id", .text)
                table.column("vmID", .text).notNull()
                table.column("state", .text).notNull()
                table.column("updatedAt", .datetime).notNull().indexed()
            }
        }
        migrator.registerMigration("v7-automatic-start") { db in
            try db.alter(table: "vm") { table in
                table.add(column: "runningWhenHostStopped", .boolean).notNull().defaults(to: false)
            }
        }
        migrator.registerMigration("v8-ownership") { db in
            try db.create(table: "ownership") { table in
                table.primaryKey("vmID", .text)
                table.column("owner", .text).notNull()
                table.column("generation", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("peer", .text)
                table.column("moveID", .text)
                table.column("previousState", .text)
                table.column("updatedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v9-checkpoints") { db in
            try db.create(table: "checkpoint") { table in
                table.primaryKey("id", .text)
                table.column("vmID", .text).notNull().indexed().references("vm", onDelete: .cascade)
                table.column("name", .text).notNull().collate(.nocase)
                table.column("parentID", .text)
                table.column("kind", .text).notNull()
                table.column("vmState", .text).notNull()
                table.column("configuration", .jsonText).notNull()
                table.column("memoryFile", .text)
                table.column("nvramFile", .text)
                table.column("createdAt", .datetime).notNull()
                table.uniqueKey(["vmID", "name"])
            }
            try db.create(table: "checkpointPosition") { table in
                table.primaryKey("vmID", .text).references("vm", onDelete: .cascade)
                table.column("checkpointID", .text)
            }
        }
        migrator.registerMigration("v10-checkpoint-tpm") { db in
            try db.alter(table: "checkpoint") { table in
                table.add(column: "tpmStateFile", .text)
            }
        }
        migrator.registerMigration("v11-web-console") { db in
            try db.alter(table: "event") { table in
                table.add(column: "user", .text)
            }
            try db.create(table: "apiToken") { table in
                table.primaryKey("name", .text).collate(.nocase)
                table.column("digest", .text).notNull().unique()
                table.column("createdAt", .datetime).notNull()
                table.column("lastUsedAt", .datetime)
            }
        }
        migrator.registerMigration("v12-metric-hours") { db in
            try db.create(table: "metricHour") { table in
                table.column("key", .text).notNull()
                table.column("hour", .datetime).notNull().indexed()
                table.column("point", .jsonText).notNull()
                table.primaryKey(["key", "hour"])
            }
        }
        return migrator
    }

    // MARK: Peers and settings

    /// Every trusted peer, by name.
    public func peers() throws -> [PeerRecord] {
        try read { try PeerRecord.order(Column("name").collating(.nocase)).fetchAll($0) }
    }

    /// Adds a peer. - Throws: `alreadyExists` when the name is taken.
    public func insert(_ peer: PeerRecord) throws {
        do {
            try database.write { try peer.insert($0) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw ViridianError(.alreadyExists, "a peer named '\(peer.name)' exists already (remove it first to replace it)")
        } catch {
            throw ViridianError(.internalError, "cannot store peer '\(peer.name)'", cause: error)
        }
    }

    /// Removes a peer; true when there was one.
    public func deletePeer(name: String) throws -> Bool {
        var deleted = false
        try write { deleted = try PeerRecord.filter(Column("name").collating(.nocase) == name).deleteAll($0) > 0 }
        return deleted
    }

    /// The stored JSON value of a host setting.
    public func setting(_ key: String) throws -> String? {
        try read { try SettingRecord.fetchOne($0, key: key)?.value }
    }

    /// Stores a host setting's JSON value.
    public func setSetting(_ key: String, _ value: String) throws {
        try write { try SettingRecord(key: key, value: value).save($0) }
    }

    // MARK: Integration services

    /// Every VM's integration services record, by VM id.
    public func integrationRecords() throws -> [String: IntegrationRecord] {
        let records = try read { try IntegrationRecord.fetchAll($0) }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.vmID, $0) })
    }

    /// Adds a VM that arrived from another host, with its integration record, in one transaction.
    /// Stores a VM that moved here and, in the same transaction, the move's committed outcome:
    /// once this returns, the VM is this host's even if viridiand dies at once.
    public func insertArrived(_ vm: VMRecord, integration: IntegrationRecord, moveID: String,
                              ownership: OwnershipRecord) throws {
        do {
            try database.write { db in
                try vm.insert(db)
                try integration.save(db)
                try ownership.save(db)
                try IncomingMoveRecord(id: moveID, vmID: vm.id, state: "committed").save(db)
                // Outcomes older than a week are of no use to any source.
                try IncomingMoveRecord.filter(Column("updatedAt") < Date().addingTimeInterval(-7 * 86_400)).deleteAll(db)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw ViridianError(.alreadyExists, "a VM named '\(vm.name)' or with id \(vm.id) already exists on this host")
        } catch {
            throw ViridianError(.internalError, "cannot store VM '\(vm.name)'", cause: error)
        }
    }

    /// Stores a VM's integration services record.
    public func save(_ record: IntegrationRecord) throws {
        do {
            try database.write { try record.save($0) }
        } catch {
            throw ViridianError(.internalError, "cannot store the integration services of a VM", cause: error)
        }
    }

    // MARK: VMs

    /// Every VM, by name.
    public func allVMs() throws -> [VMRecord] {
        try read { try VMRecord.order(Column("name").collating(.nocase)).fetchAll($0) }
    }

    /// Adds a VM. - Throws: `alreadyExists` when the name is taken (names are case-insensitive, as in Hyper-V).
    public func insert(_ vm: VMRecord) throws {
        do {
            try database.write { try vm.insert($0) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw ViridianError(.alreadyExists, "a VM named '\(vm.name)' already exists")
        } catch {
            throw ViridianError(.internalError, "cannot store VM '\(vm.name)'", cause: error)
        }
    }

    /// Stores a changed VM.
    public func update(_ vm: VMRecord) throws {
        try write { try vm.update($0) }
    }

    /// Removes a VM.
    public func deleteVM(id: String) throws {
        try write { _ = try VMRecord.deleteOne($0, key: id) }
    }

    // MARK: Images

    public func images() throws -> [ImageInfo] {
        try read { try ImageRecord.order(Column("name")).fetchAll($0).map(\.info) }
    }

    public func image(named name: String) throws -> ImageInfo? {
        try read { try ImageRecord.fetchOne($0, key: name)?.info }
    }

    /// Registers or replaces an image.
    public func save(_ image: ImageInfo) throws {
        try write { try ImageRecord(image).save($0) }
    }

    // MARK: Events

    /// Appends an event and returns it with its id.
    @discardableResult
    public func appendEvent(level: EventLevel, source: EventSource, vm: String?, message: String,
                            user: String? = nil) throws -> EventRecord {
        var row = EventRow(id: nil, time: Date(), level: level, source: source, vm: vm, message: message, user: user)
        try write { try row.insert($0) }
        return row.record
    }

    /// Events, newest last, filtered by VM name, minimum level and start time.
    public func events(vm: String?, minimumLevel: EventLevel?, since: Date?, limit: Int) throws -> [EventRecord] {
        try read { db in
            var request = EventRow.all()
            if let vm { request = request.filter(Column("vm").collating(.nocase) == vm) }
            if let minimumLevel {
                let levels = EventLevel.allCases.filter { $0 >= minimumLevel }.map(\.rawValue)
                request = request.filter(levels.contains(Column("level")))
            }
            if let since { request = request.filter(Column("time") >= since) }
            let newest = try request.order(Column("id").desc).limit(limit).fetchAll(db)
            return newest.reversed().map(\.record)
        }
    }

    /// Deletes events beyond the newest `keeping` and those before `olderThan`; returns how many went.
    @discardableResult
    public func pruneEvents(keeping: Int, olderThan: Date) throws -> Int {
        try prune(table: "event", order: "id", keeping: keeping, timeColumn: "time", olderThan: olderThan)
    }

    /// Deletes jobs beyond the newest `keeping` and those created before `olderThan`; returns how many went.
    @discardableResult
    public func pruneJobs(keeping: Int, olderThan: Date) throws -> Int {
        try prune(table: "job", order: "createdAt", keeping: keeping, timeColumn: "createdAt", olderThan: olderThan)
    }

    private func prune(table: String, order: String, keeping: Int, timeColumn: String, olderThan: Date) throws -> Int {
        var deleted = 0
        try write { db in
            try db.execute(sql: "DELETE FROM \(table) WHERE \(timeColumn) < ?", arguments: [olderThan])
            deleted += db.changesCount
            try db.execute(sql: "DELETE FROM \(table) WHERE rowid NOT IN (SELECT rowid FROM \(table) ORDER BY \(order) DESC LIMIT ?)",
                           arguments: [keeping])
            deleted += db.changesCount
        }
        return deleted
    }

    // MARK: Jobs

    /// Stores a job's latest state.
    public func save(_ job: JobInfo) throws {
        try write { try JobRow(id: job.id, createdAt: job.createdAt, info: job).save($0) }
    }

    /// One stored job.
    public func job(id: String) throws -> JobInfo? {
        try read { try JobRow.fetchOne($0, key: id)?.info }
    }

    /// Ids of stored jobs that start with `prefix` (at most `limit`).
    public func jobIDs(withPrefix prefix: String, limit: Int) throws -> [String] {
        let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM job WHERE id LIKE ? ESCAPE '\\' LIMIT ?", arguments: [escaped + "%", limit])
        }
    }

    /// The most recent jobs, oldest first.
    public func recentJobs(limit: Int) throws -> [JobInfo] {
        try read { try JobRow.order(Column("createdAt").desc).limit(limit).fetchAll($0).reversed().map(\.info) }
    }

    // MARK: Access

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch {
            throw ViridianError(.internalError, "cannot read the inventory", cause: error)
        }
    }

    func write(_ body: (Database) throws -> Void) throws {
        do { try database.write(body) } catch {
            throw ViridianError(.internalError, "cannot write the inventory", cause: error)
        }
    }
}
