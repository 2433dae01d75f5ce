/// `POST /v1/vhds/repair`: check a disk file and repair what qemu-img can (`vhd repair`); a VHDX
/// whose log Hyper-V left unreplayed after a crash gets its log replayed.
public struct RepairVHDRequest: Codable, Sendable {
    public var path: String
    /// The format, when the file is not recorded and cannot be probed.
    public var format: VHDFormat?

    public init(path: String, format: VHDFormat? = nil) {
        self.path = path
        self.format = format
    }
}

/// What `vhd repair` found and fixed.
public struct VHDRepairReport: Codable, Sendable, Equatable {
    public var path: String
    public var format: VHDFormat
    /// A VHDX's log was replayed (it held writes a crash left unapplied).
    public var logReplayed: Bool
    public var corruptionsFixed: Int
    public var leaksFixed: Int
    /// What is still wrong after the repair (0 and 0 when the disk is sound now).
    public var corruptionsLeft: Int
    public var leaksLeft: Int

    public init(path: String, format: VHDFormat, logReplayed: Bool, corruptionsFixed: Int, leaksFixed: Int,
                corruptionsLeft: Int, leaksLeft: Int) {
        self.path = path
        self.format = format
        self.logReplayed = logReplayed
        self.corruptionsFixed = corruptionsFixed
        self.leaksFixed = leaksFixed
        self.corruptionsLeft = corruptionsLeft
        self.leaksLeft = leaksLeft
    }
}
