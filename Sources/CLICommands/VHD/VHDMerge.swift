import APITypes
import ArgumentParser

/// `viridian vhd merge CHILD` (Merge-VHD).
struct VHDMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Fold a differencing disk into its parent and delete it.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @Argument(help: "The differencing disk.") var path: String

    func run() async throws {
        try await JobRunner.run(options, jobOptions, start: { try await options.client.mergeVHD(MergeVHDRequest(path: absolute(path))) }) { job in
            print("Merged into \(job.statusMessage ?? "its parent").")
        }
    }
}
