import APITypes
import ArgumentParser

/// `viridian vhd …`: virtual hard disks.
struct VHDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhd", abstract: "Create and manage virtual hard disks (VHDX, VHD, qcow2).",
        subcommands: [VHDNew.self, VHDShow.self, VHDResize.self, VHDConvert.self, VHDMerge.self, VHDRepair.self])

    static func print(_ info: VHDInfo, json: Bool) throws {
        if json { return try Output.json(info) }
        Output.fields([("Path", info.path), ("Format", info.format.rawValue.uppercased()),
                       ("Type", info.type?.rawValue ?? "unknown"), ("Size", ByteSize.format(info.sizeBytes)),
                       ("File size", ByteSize.format(info.fileSizeBytes)), ("Parent", info.parentPath ?? "-"),
                       ("Attached to", info.attachedTo ?? "-")])
    }
}

extension VHDFormat: ExpressibleByArgument {}

/// Fixed, dynamic or differencing on the command line.
enum VHDTypeArgument: String, ExpressibleByArgument, CaseIterable {
    case fixed, dynamic

    var value: VHDType { self == .fixed ? .fixed : .dynamic }
}
