import APITypes
import ArgumentParser

/// `viridian vm backup NAME --to DIR [--full|--incremental] [--crash-consistent]`: one backup point.
struct VMBackup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back a Running, Paused or Off VM up into a repository folder (full or incremental).",
        discussion: """
            The repository (--to) is a folder, made when missing, that may be an NFS mount; it holds a chain of \
            points per VM. By default a point is incremental when the VM's change tracking covers every write \
            since the repository's last point of the VM, and full otherwise; the job says why a point is full. \
            A running guest is not paused: its file systems are frozen (VSS service or qemu-guest-agent) only \
            for the instant the point is taken, unless --crash-consistent. List, verify, restore and prune \
            points with viridian backup.
            """)
    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Option(name: .customLong("to"), help: "The repository folder.") var repository: String
    @Flag(help: "Copy every block, whatever the change tracking knows.") var full = false
    @Flag(help: "Copy only what changed (a full point when that cannot be known, saying why).") var incremental = false
    @Flag(help: "Do not freeze the guest's file systems: the point is as a power cut would leave the disks.") var crashConsistent = false

    func validate() throws {
        if full && incremental { throw ValidationError("--full and --incremental exclude each other") }
    }

    func run() async throws {
        let mode: BackupMode = full ? .full : incremental ? .incremental : .auto
        let request = BackupRequest(destinationPath: absolute(repository), mode: mode, crashConsistent: crashConsistent)
        try await JobRunner.run(options, jobOptions, start: { try await options.client.backUp(vm.name, request) }) { job in
            print(job.statusMessage ?? "Backed up.")
        }
    }
}
