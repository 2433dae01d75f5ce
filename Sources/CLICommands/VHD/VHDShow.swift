import APITypes
import ArgumentParser

/// `viridian vhd show PATH` (Get-VHD).
struct VHDShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show what a disk file is.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The disk file.") var path: String
    @Option(help: "The format, needed only for a raw disk Viridian does not know yet (raw is never guessed).")
    var format: VHDFormat?

    func run() async throws {
        try VHDCommand.print(try await options.client.vhd(absolute(path), format: format), json: options.json)
    }
}
