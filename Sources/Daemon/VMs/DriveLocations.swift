import APITypes

/// Where a new drive goes when no location is given, in Hyper-V's order.
/// Generation 1: hard disks on IDE 0:0, 0:1, 1:1, 1:0, then SCSI; DVD drives on IDE 1:0, 1:1, 0:1, 0:0.
/// Generation 2: everything on SCSI 0:0, 0:1, … then controllers 1 to 3.
/// A controller type (and number) the user names narrows the search to that controller.
enum DriveLocations {
    static func firstFree(kind: DriveKind, generation: Generation, taken: Set<String>, path: String?,
                          controllerType: ControllerType? = nil, controllerNumber: Int? = nil) -> DriveAttachment? {
        var candidates: [(ControllerType, Int, Int)] = []
        if generation == .one {
            let ide = kind == .dvd ? [(1, 0), (1, 1), (0, 1), (0, 0)] : [(0, 0), (0, 1), (1, 1), (1, 0)]
            candidates += ide.map { (.ide, $0.0, $0.1) }
        }
        if kind == .hardDisk || generation == .two {
            for controller in 0..<HyperVLimits.scsiControllers {
                for location in 0..<HyperVLimits.scsiLocations { candidates.append((.scsi, controller, location)) }
            }
        }
        return candidates
            .lazy
            .filter { candidate in controllerType.map { $0 == candidate.0 } ?? true }
            .filter { candidate in controllerNumber.map { $0 == candidate.1 } ?? true }
            .map { DriveAttachment(kind: kind, controllerType: $0.0, controllerNumber: $0.1, location: $0.2, path: path) }
            .first { !taken.contains($0.locationName) }
    }
}
