import APITypes
import ArgumentParser

/// `viridian vm move NAME --to PEER` (Move-VM): live, offline or shared-nothing to another host.
struct VMMove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move", abstract: "Move a VM to a peer host; a running VM keeps running (live migration).",
        discussion: """
            Without --include-storage the peer must see the VM's disks at the same paths (shared storage).
            With it, the disks are copied while the VM runs (shared-nothing live migration) and the
            originals are deleted after the move. Exits 0 only when the VM runs (or is Off) on the peer.
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Option(help: "The peer to move to (see: viridian host peer list).") var to: String
    @Flag(help: "Copy the disks too (shared-nothing).") var includeStorage = false
    @Option(help: "Folder for the disks on the peer (with --include-storage). Default: its disk folder.") var destinationPath: String?
    @Option(help: "Cap the migration stream, MiB/s. Default: no cap.") var bandwidth: Int?
    @Option(help: "Longest pause of the guest at switchover, ms. Default: 300.") var downtime: Int?
    @Option(help: "Compression: none, xbzrle, zlib or zstd.") var compression: MigrationCompression = .none
    @Option(help: "Connections for the memory stream (multifd), 1–16.") var channels: Int = 1

    func run() async throws {
        let request = MoveVMRequest(destination: to, includeStorage: includeStorage, destinationPath: destinationPath,
                                    bandwidthMiBps: bandwidth, downtimeMilliseconds: downtime, compression: compression,
                                    channels: channels)
        try await JobRunner.run(options, jobOptions, start: { try await options.client.moveVM(vm.name, request) }) { job in
            print("VM '\(vm.name)' is on '\(to)': \(job.statusMessage ?? "moved").")
        }
    }
}

extension MigrationCompression: ExpressibleByArgument {}

/// `viridian vm move-storage NAME --destination-path DIR` (Move-VMStorage).
struct VMMoveStorage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move-storage", abstract: "Move a VM's disks to another folder on this host; a running VM keeps running.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Option(help: "The folder to move the disks into.") var destinationPath: String

    func run() async throws {
        try await JobRunner.run(options, jobOptions,
                                start: { try await options.client.moveStorage(vm.name, MoveStorageRequest(destinationPath: absolute(destinationPath))) }) { job in
            print("VM '\(vm.name)': \(job.statusMessage ?? "storage moved").")
        }
    }
}
