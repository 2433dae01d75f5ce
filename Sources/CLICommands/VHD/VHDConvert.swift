import APITypes
import ArgumentParser

/// `viridian vhd convert SRC DEST [--format F] [--type fixed|dynamic]` (Convert-VHD).
struct VHDConvert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convert", abstract: "Copy a disk into a new one of another format or type.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @Argument(help: "The source disk.") var source: String
    @Argument(help: "The new disk (must not exist).") var destination: String
    @Option(help: "vhdx, vhd, qcow2 or raw (default: from the extension).") var format: VHDFormat?
    @Option(help: "fixed or dynamic (default).") var type: VHDTypeArgument?
    @Option(help: "The source's format, needed only for a raw disk Viridian does not know yet (raw is never guessed).")
    var sourceFormat: VHDFormat?

    func run() async throws {
        let request = ConvertVHDRequest(sourcePath: absolute(source), destinationPath: absolute(destination), format: format, type: type?.value,
                                        sourceFormat: sourceFormat)
        try await JobRunner.run(options, jobOptions, start: { try await options.client.convertVHD(request) }) { _ in
            print("Converted to \(absolute(destination)).")
        }
    }
}
