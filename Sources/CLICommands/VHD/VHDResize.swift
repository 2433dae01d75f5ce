import APITypes
import ArgumentParser

/// `viridian vhd resize PATH --size 20G` (Resize-VHD).
struct VHDResize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resize", abstract: "Grow a disk (not VHDX): live when a running VM has it on SCSI.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The disk file.") var path: String
    @Option(help: "New virtual size, e.g. 20G.") var size: String

    func run() async throws {
        let info = try await options.client.resizeVHD(ResizeVHDRequest(path: absolute(path), sizeBytes: try ByteSize.parse(size)))
        try VHDCommand.print(info, json: options.json)
    }
}
