import APITypes
@testable import Daemon
import Foundation
import Testing

@Suite("Daemon helpers")
struct DaemonHelpersTests {
    @Test("--since takes ISO 8601 or an age")
    func since() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(try TimeParsing.parse("15m", now: now) == now.addingTimeInterval(-900))
        #expect(try TimeParsing.parse("2d", now: now) == now.addingTimeInterval(-172_800))
        #expect(try TimeParsing.parse("1970-01-12T13:46:40Z") == now)
        #expect(throws: ViridianError.self) { try TimeParsing.parse("yesterday") }
    }

    @Test("error codes map to HTTP statuses")
    func statuses() {
        #expect(APIError.status(.notFound).code == 404)
        #expect(APIError.status(.invalidState).code == 409)
        #expect(APIError.status(.invalidArgument).code == 400)
        #expect(APIError.status(.missingDependency).code == 503)
    }
}

@Suite("Drive placement")
struct DriveLocationsTests {
    @Test("new drives take Hyper-V's default locations")
    func order() {
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .one, taken: [], path: nil)?.locationName == "IDE 0:0")
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .one, taken: ["IDE 0:0", "IDE 0:1"], path: nil)?.locationName == "IDE 1:1")
        #expect(DriveLocations.firstFree(kind: .dvd, generation: .one, taken: [], path: nil)?.locationName == "IDE 1:0")
        let ideFull: Set<String> = ["IDE 0:0", "IDE 0:1", "IDE 1:0", "IDE 1:1"]
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .one, taken: ideFull, path: nil)?.locationName == "SCSI 0:0")
        #expect(DriveLocations.firstFree(kind: .dvd, generation: .one, taken: ideFull, path: nil) == nil, "Generation 1 DVDs are IDE only")
        #expect(DriveLocations.firstFree(kind: .dvd, generation: .two, taken: ["SCSI 0:0"], path: nil)?.locationName == "SCSI 0:1")
    }

    @Test("a controller the user names narrows the search to its free locations")
    func namedController() {
        let bootDisk: Set<String> = ["IDE 0:0"]
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .one, taken: bootDisk, path: nil, controllerType: .ide)?.locationName == "IDE 0:1")
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .one, taken: bootDisk, path: nil, controllerType: .scsi)?.locationName == "SCSI 0:0")
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .two, taken: ["SCSI 0:0"], path: nil,
                                         controllerType: .scsi, controllerNumber: 1)?.locationName == "SCSI 1:0")
        #expect(DriveLocations.firstFree(kind: .hardDisk, generation: .two, taken: [], path: nil, controllerType: .ide) == nil,
                "Generation 2 has no IDE controller")
    }
}
