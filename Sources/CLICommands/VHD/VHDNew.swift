import APITypes
import ArgumentParser

/// `viridian vhd new PATH --size 10G [--type fixed|dynamic] | --parent PARENT` (New-VHD).
struct VHDNew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new", abstract: "Create a disk: fixed or dynamic, or a differencing child of --parent.",
        discussion: "The format follows the extension (.vhdx, .vhd, .qcow2) unless --format. A differencing child is always .qcow2.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The new disk file.") var path: String
    @Option(help: "Virtual size, e.g. 10G.") var size: String?
    @Option(help: "fixed or dynamic (default).") var type: VHDTypeArgument?
    @Option(help: "vhdx, vhd, qcow2 or raw.") var format: VHDFormat?
    @Option(help: "Parent disk: makes a differencing disk.") var parent: String?

    func validate() throws {
        guard (size == nil) != (parent == nil) else { throw ValidationError("give --size for a new disk or --parent for a differencing one") }
    }

    func run() async throws {
        let info = try await options.client.newVHD(NewVHDRequest(
            path: absolute(path), sizeBytes: try size.map(ByteSize.parse), format: format,
            type: parent != nil ? .differencing : type?.value, parentPath: parent.map(absolute)))
        try VHDCommand.print(info, json: options.json)
    }
}
