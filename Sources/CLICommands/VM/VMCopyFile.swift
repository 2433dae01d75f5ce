import APITypes
import ArgumentParser

/// `viridian vm copy-file NAME SRC DEST [--from-guest]` (Copy-VMFile).
struct VMCopyFile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-file", abstract: "Copy a file into the guest, or out of it with --from-guest.",
        discussion: "Needs the fcopy service (off by default: viridian vm ic enable NAME fcopy). Host paths are relative to the current directory; guest paths must be absolute.")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Argument(help: "The file to copy (a host path, or a guest path with --from-guest).") var source: String
    @Argument(help: "Where it goes (a guest path, or a host path with --from-guest).") var destination: String
    @Flag(help: "Copy from the guest to the host.") var fromGuest = false
    @Flag(help: "Create missing folders of the destination.") var createFullPath = false
    @Flag(help: "Replace an existing destination file.") var overwrite = false

    func run() async throws {
        let request = CopyFileRequest(source: fromGuest ? source : absolute(source),
                                      destination: fromGuest ? absolute(destination) : destination,
                                      fromGuest: fromGuest, createFullPath: createFullPath, overwrite: overwrite)
        try await JobRunner.run(options, jobOptions, start: { try await options.client.copyFile(vm.name, request) }) { job in
            print("\(request.source) → \(request.destination): \(job.statusMessage ?? "copied")")
        }
    }
}
