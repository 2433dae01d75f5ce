import APITypes
import ArgumentParser
import Foundation

/// `viridian vm backup NAME --to DIR [--full|--incremental] [--crash-consistent]`: one backup point;
/// `vm backup NAME --export` … `--export-stop [--discard]`: the point in time served over NBD for other backup tools.
struct VMBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back a Running, Paused or Off VM up into a repository folder, or export it over NBD for another backup tool.",
        discussion: """
            The repository (--to) is a folder, made when missing, that may be an NFS mount; it holds a chain of \
            points per VM. By default a point is incremental when the VM's change tracking covers every write \
            since the repository's last point of the VM, and full otherwise; the job says why a point is full. \
            A running guest is not paused: its file systems are frozen (VSS service or qemu-guest-agent) only \
            for the instant the point is taken, unless --crash-consistent. List, verify, restore and prune \
            points with viridian backup.

            Pull mode: --export serves the VM's disks as they are at this instant over NBD with TLS (a \
            pre-shared key in a file group viridian can read), read-only, one export per disk (disk0, disk1, …), \
            with the blocks changed since the VM's last backup or export as the meta context \
            qemu:dirty-bitmap:viridian-changes (nbdinfo --map, qemu-img map). The VM is held until \
            --export-stop (the tool succeeded: the next export's bitmap counts from this one), \
            --export-stop --discard (it failed: its changes count toward the next), or --export-timeout.
            """)
    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Option(name: .customLong("to"), help: "The repository folder.") var repository: String?
    @Flag(help: "Copy every block, whatever the change tracking knows (with --export: no changed-block bitmap).") var full = false
    @Flag(help: "Copy only what changed (a full point when that cannot be known, saying why).") var incremental = false
    @Flag(help: "Do not freeze the guest's file systems: the point is as a power cut would leave the disks.") var crashConsistent = false
    @Flag(help: "Serve the point in time over NBD with TLS instead of writing a repository.") var export = false
    @Option(help: ArgumentHelp("With --export: ADDRESS[:PORT] to listen on.", discussion: "Default: 127.0.0.1, the first free port from 10809."))
    var listen: String?
    @Option(help: "With --export: seconds after which the export ends as failed (1–86400; default 3600).") var exportTimeout: Int?
    @Flag(help: "End the VM's export: the tool read what it needed.") var exportStop = false
    @Flag(help: "With --export-stop: the tool failed; the export's changes count toward the next backup or export.") var discard = false
    @Flag(help: "Show the VM's export.") var exportStatus = false

    func validate() throws {
        if full && incremental { throw ValidationError("--full and --incremental exclude each other") }
        let actions = [repository != nil, export, exportStop, exportStatus].filter { $0 }.count
        guard actions == 1 else { throw ValidationError("give one of --to DIR, --export, --export-stop and --export-status") }
        if (listen != nil || exportTimeout != nil) && !export { throw ValidationError("--listen and --export-timeout go with --export") }
        if discard && !exportStop { throw ValidationError("--discard goes with --export-stop") }
        if (full || incremental || crashConsistent) && (exportStop || exportStatus) {
            throw ValidationError("--full, --incremental and --crash-consistent go with --to or --export")
        }
    }

    func run() async throws {
        let mode: BackupMode = full ? .full : incremental ? .incremental : .auto
        if let repository {
            let request = BackupRequest(destinationPath: absolute(repository), mode: mode, crashConsistent: crashConsistent)
            try await JobRunner.run(options, jobOptions, start: { try await options.client.backUp(vm.name, request) }) { job in
                print(job.statusMessage ?? "Backed up.")
            }
            return
        }
        let info: BackupExportInfo
        if export {
            let request = BackupExportRequest(mode: mode, crashConsistent: crashConsistent, listen: listen, timeoutSeconds: exportTimeout)
            info = try await options.client.startBackupExport(vm.name, request)
        } else if exportStop {
            info = try await options.client.stopBackupExport(vm.name, discard: discard)
        } else {
            info = try await options.client.backupExport(vm.name)
        }
        if options.json { return try Output.json(info) }
        switch info.state {
        case .serving: Self.printServing(info)
        case .completed: print("The NBD export of VM '\(info.vm)' completed; the next export's bitmap counts from it (token \(info.token)).")
        case .discarded: print("The NBD export of VM '\(info.vm)' ended as failed; its changes count toward the next backup or export.")
        case .lost: print("The NBD export of VM '\(info.vm)' was lost with its worker; the next backup or export reads every block.")
        }
    }

    private static func printServing(_ info: BackupExportInfo) {
        print("VM '\(info.vm)' as it was at \(Output.time(info.pointInTime)) is served over NBD with TLS (pre-shared key, identity \(info.tlsUsername)):")
        Output.table(["EXPORT", "SIZE", "URI"], info.disks.map { [$0.name, ByteSize.format(UInt64($0.sizeBytes)), $0.uri] })
        if let context = info.bitmapContext, let since = info.changedSince {
            print("Changed blocks since token \(since): meta context \(context)")
            if let first = info.disks.first { print("  for example: nbdinfo --map=\(context) '\(first.uri)'") }
        } else {
            print("No changed-block bitmap: read every block (\(info.fullBecause ?? "a full export")).")
        }
        print("Key file: \(info.tlsPSKFile)\(info.applicationConsistent ? "" : " · crash-consistent")")
        print("This export's token: \(info.token) (an export whose changedSince is this token has the blocks changed since this one).")
        print("End it with: viridian vm backup \(info.vm) --export-stop  (or --export-stop --discard when the tool failed);")
        print("otherwise it ends as failed at \(Output.time(info.expiresAt)).")
    }
}
