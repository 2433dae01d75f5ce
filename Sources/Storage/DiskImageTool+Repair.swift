import APITypes
import Foundation
import HostTools

extension DiskImageTool {
    /// Whether qemu-img's error text says the file is a VHDX whose log must be replayed.
    static func saysLogMustBeReplayed(_ text: String) -> Bool {
        text.contains("needs to be replayed") || text.contains("log that needs")
    }

    /// The format of a file the administrator names for a repair, when it is not recorded: the
    /// one they state, else one probe. A VHDX whose log must be replayed cannot be opened
    /// read-only to probe; qemu-img's refusal says it is a VHDX.
    public func formatForRepair(path: String, declared: VHDFormat?) async throws -> VHDFormat {
        if let declared { return declared }
        do {
            return try await probe(path: path, declared: nil).format
        } catch let error as ViridianError where error.code == .invalidState {
            // `readInfo`'s one `invalidState`: a VHDX log that must be replayed.
            return .vhdx
        }
    }

    /// Checks `image` and repairs what qemu-img can (`qemu-img check -r all`, Repair-VHD): a
    /// VHDX's log is replayed, qcow2 leaks and corruptions are fixed. Opens the file read-write:
    /// the caller makes sure no VM has it open.
    /// - Throws: `invalidArgument` for formats qemu-img cannot check (VHD, raw).
    public func repair(_ image: DiskImage) async throws -> VHDRepairReport {
        try DiskPath.requireRegularFile(image.path)
        guard image.format == .vhdx || image.format == .qcow2 else {
            throw ViridianError(.invalidArgument, "qemu-img cannot check or repair \(image.format.rawValue.uppercased()) disks; "
                                + "convert it to VHDX or qcow2 to check it (viridian vhd convert)")
        }
        let output = try await HostCommand.run(qemuImg, ["check", "-r", "all", "--output=json", "-f", image.format.qemuName, image.path],
                                               timeout: .seconds(3600))
        // 0: sound now; 2: corruptions left; 3: leaks left. 1 and the rest: the check could not run.
        guard [0, 2, 3].contains(output.exitCode) else {
            throw ViridianError(.engineFailure, "checking \(image.path) failed: \(output.errorSummary)")
        }
        let report = try QemuImgCheck.decode(output.standardOutput)
        return VHDRepairReport(path: image.path, format: image.format,
                               logReplayed: image.format == .vhdx && report.corruptionsFixed > 0,
                               corruptionsFixed: report.corruptionsFixed, leaksFixed: report.leaksFixed,
                               corruptionsLeft: report.corruptions, leaksLeft: report.leaks)
    }
}

/// The fields of `qemu-img check --output=json` Viridian reads (absent counts are 0).
struct QemuImgCheck: Decodable {
    var corruptions: Int
    var leaks: Int
    var corruptionsFixed: Int
    var leaksFixed: Int

    enum CodingKeys: String, CodingKey {
        case corruptions, leaks
        case corruptionsFixed = "corruptions-fixed"
        case leaksFixed = "leaks-fixed"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        corruptions = try container.decodeIfPresent(Int.self, forKey: .corruptions) ?? 0
        leaks = try container.decodeIfPresent(Int.self, forKey: .leaks) ?? 0
        corruptionsFixed = try container.decodeIfPresent(Int.self, forKey: .corruptionsFixed) ?? 0
        leaksFixed = try container.decodeIfPresent(Int.self, forKey: .leaksFixed) ?? 0
    }

    static func decode(_ json: String) throws -> QemuImgCheck {
        do {
            return try JSONDecoder().decode(QemuImgCheck.self, from: Data(json.utf8))
        } catch {
            throw ViridianError(.engineFailure, "qemu-img check printed something unexpected", cause: error)
        }
    }
}
