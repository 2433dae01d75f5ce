import APITypes
import ArgumentParser

/// `viridian backup list|verify|restore|prune`: the points of a backup repository.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "List, verify, restore and prune the points of a backup repository (vm backup writes them).",
        subcommands: [List.self, Verify.self, Restore.self, Prune.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every VM's backup points in the repository, oldest first.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The repository folder.") var repository: String
        @Option(help: "Only this VM's points.") var vm: String?

        func run() async throws {
            let points = try await options.client.backups(in: absolute(repository), vm: vm)
            if options.json { return try Output.json(points) }
            guard !points.isEmpty else { return print("The repository holds no backups.") }
            Output.table(["VM", "POINT", "KIND", "SIZE", "CONSISTENCY", "CREATED", "NOTE"], points.map { point in
                [point.vm, point.point, point.kind.rawValue, ByteSize.format(UInt64(max(0, point.bytes))),
                 point.applicationConsistent ? "application" : "crash", Output.time(point.createdAt), point.note ?? ""]
            })
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Read every stored block against the checksums taken when it was written.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @Argument(help: "The repository folder.") var repository: String
        @Option(help: "Only this VM's points.") var vm: String?

        func run() async throws {
            let request = VerifyBackupRequest(path: absolute(repository), vm: vm)
            try await JobRunner.run(options, jobOptions, start: { try await options.client.verifyBackups(request) }) { job in
                print(job.statusMessage ?? "Verified.")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Restore a VM's backup point as a new VM (--as), or over the Off VM it was taken of.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @Argument(help: "The repository folder.") var repository: String
        @Option(help: "The VM whose point is restored.") var vm: String
        @Option(help: "The point (default: the newest; see backup list).") var point: String?
        @Option(name: .customLong("as"), help: "The new VM's name; without it the original VM's disks are rewritten (it must be Off).") var newName: String?

        func run() async throws {
            let request = RestoreBackupRequest(path: absolute(repository), vm: vm, point: point, as: newName)
            try await JobRunner.run(options, jobOptions, start: { try await options.client.restoreBackup(request) }) { job in
                print(job.statusMessage ?? "Restored.")
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune", abstract: "Keep a VM's newest N points; older increments are folded in, so every kept point restores.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @Argument(help: "The repository folder.") var repository: String
        @Option(help: "The VM whose chain is pruned.") var vm: String
        @Option(help: "How many points to keep (at least 1).") var keep: Int

        func run() async throws {
            let request = PruneBackupRequest(path: absolute(repository), vm: vm, keep: keep)
            try await JobRunner.run(options, jobOptions, start: { try await options.client.pruneBackups(request) }) { job in
                print(job.statusMessage ?? "Pruned.")
            }
        }
    }
}
