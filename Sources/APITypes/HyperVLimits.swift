/// The configuration limits Hyper-V enforces, which Viridian enforces the same way.
public enum HyperVLimits {
    public static let nameMaxLength = 64
    public static let minimumMemoryMiB = 32
    /// Startup memory must be a multiple of this (Hyper-V: 2 MB).
    public static let memoryAlignmentMiB = 2
    public static let maximumMemoryMiBGeneration1 = 1 << 20          // 1 TiB
    public static let maximumMemoryMiBGeneration2 = 12 * (1 << 20)   // 12 TiB
    public static let maximumProcessors = 240
    public static let ideControllers = 2
    public static let ideLocations = 2
    public static let scsiControllers = 4
    public static let scsiLocations = 64
    public static let maximumNetworkAdapters = 8
    public static let maximumLegacyNetworkAdapters = 4
    public static let notesMaxLength = 4096

    /// How many controllers of a type a generation has.
    public static func controllers(_ type: ControllerType, generation: Generation) -> Int {
        switch type {
        case .ide: generation == .one ? ideControllers : 0
        case .scsi: scsiControllers
        }
    }

    /// How many locations a controller of this type has.
    public static func locations(_ type: ControllerType) -> Int {
        type == .ide ? ideLocations : scsiLocations
    }

    public static func maximumMemoryMiB(_ generation: Generation) -> Int {
        generation == .one ? maximumMemoryMiBGeneration1 : maximumMemoryMiBGeneration2
    }
}
