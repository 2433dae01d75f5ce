import APITypes
import ArgumentParser

/// `viridian vhd repair PATH` (Repair-VHD): replay a VHDX's log, fix what qemu-img can.
struct VHDRepair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Check a disk and repair what can be repaired (a VHDX's log left by a crash is replayed).",
        discussion: "The disk must not be in use by a running VM. Exits 1 when something could not be repaired.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The disk file.") var path: String
    @Option(help: "The format, for a file Viridian has not recorded: vhdx or qcow2.") var format: VHDFormat?

    func run() async throws {
        let report = try await options.client.repairVHD(RepairVHDRequest(path: absolute(path), format: format))
        if options.json {
            try Output.json(report)
        } else {
            Output.fields([("Path", report.path), ("Format", report.format.rawValue.uppercased()),
                           ("Log replayed", report.logReplayed ? "yes" : "no"),
                           ("Fixed", "\(report.corruptionsFixed) corruption(s), \(report.leaksFixed) leak(s)"),
                           ("Left", "\(report.corruptionsLeft) corruption(s), \(report.leaksLeft) leak(s)")])
        }
        if report.corruptionsLeft + report.leaksLeft > 0 {
            throw ViridianError(.engineFailure, "\(report.path) still has \(report.corruptionsLeft) corruption(s) and \(report.leaksLeft) leak(s) "
                                + "qemu-img cannot repair; copy its data to a new disk (viridian vhd convert)")
        }
    }
}
