import APITypes
@testable import Daemon
@testable import Engine
import Foundation
import Inventory
import Testing

/// Small rules of the per-VM operations, automatic actions and worker identity.
@Suite("VM operations and automatic actions")
struct VMOperationTests {
    @Test("a busy VM names its operation in words, with the short job id viridian jobs prints")
    func operationDescription() {
        #expect(VMOperation(.saving, jobID: "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809").description == "saving (job 1a2b3c4d)")
        #expect(VMOperation(.movingStorage).description == "moving storage")
        #expect(VMOperation(.hostShutdown).description == "host shutdown")
    }

    @Test("automatic actions take Hyper-V's names on the wire and kebab-case in the CLI")
    func actionSpelling() throws {
        #expect(AutomaticActions.StopAction.allCases.map(\.cliName) == ["save", "shut-down", "turn-off"])
        #expect(AutomaticActions.StartAction.allCases.map(\.cliName) == ["nothing", "start-if-running", "start"])
        let json = try JSONEncoder().encode(AutomaticActions())
        #expect(String(decoding: json, as: UTF8.self).contains("\"StartIfRunning\""))
    }

    @Test("a configuration stored before automatic actions existed gets Hyper-V's defaults")
    func defaultsForOldRecords() throws {
        let old = #"{"generation":1,"processorCount":1,"memoryMiB":256,"secureBoot":false,"drives":[],"networkAdapters":[],"bootOrder":["HardDisk"]}"#
        let configuration = try JSONDecoder().decode(VMConfiguration.self, from: Data(old.utf8))
        #expect(configuration.automaticActions == AutomaticActions(stopAction: .save, startAction: .startIfRunning, startDelaySeconds: 0))
    }

    @Test("durations: seconds, minutes, hours; anything else is refused with the forms")
    func durations() throws {
        #expect(try DurationText.parseSeconds("30") == 30)
        #expect(try DurationText.parseSeconds("30s") == 30)
        #expect(try DurationText.parseSeconds("2m") == 120)
        #expect(try DurationText.parseSeconds("1h") == 3600)
        for bad in ["", "-5", "5d", "1.5m", "m"] {
            #expect(throws: ViridianError.self, "\(bad)") { try DurationText.parseSeconds(bad) }
        }
    }

    @Test("a pid file counts only when its process carries the VM's id and pid file")
    func workerIdentity() {
        let paths = WorkerPaths(stateDirectory: "/var/lib/viridian", vmID: "0b7c")
        let worker = ["/usr/bin/qemu-system-x86_64", "-name", "guest=web", "-uuid", "0b7c", "-daemonize", "-pidfile", paths.pidFile]
        #expect(WorkerIdentity.matches(worker, paths: paths))
        #expect(!WorkerIdentity.matches(["/usr/sbin/sshd", "-D"], paths: paths), "a recycled pid")
        #expect(!WorkerIdentity.matches(worker.map { $0 == "0b7c" ? "ffff" : $0 }, paths: paths), "another VM's worker")
        #expect(!WorkerIdentity.matches(Array(worker.dropLast()), paths: paths))
        #expect(WorkerLauncher.commandLine(of: getpid())?.isEmpty == false, "reads /proc")
    }

    @Test("the first start after a boot is told from a daemon restart by the kernel's boot id")
    func hostBoot() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-boot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inventory = try Inventory(path: "\(directory)/inventory.sqlite")
        let bootFile = "\(directory)/boot_id"
        try "aaaa\n".write(toFile: bootFile, atomically: true, encoding: .utf8)
        #expect(try !HostBoot.isFirstStartSinceBoot(inventory, bootIDFile: bootFile), "the very first start cannot tell")
        #expect(try !HostBoot.isFirstStartSinceBoot(inventory, bootIDFile: bootFile), "a daemon restart")
        try "bbbb\n".write(toFile: bootFile, atomically: true, encoding: .utf8)
        #expect(try HostBoot.isFirstStartSinceBoot(inventory, bootIDFile: bootFile), "the host rebooted")
        #expect(try !HostBoot.isFirstStartSinceBoot(inventory, bootIDFile: bootFile))
        #expect(try !HostBoot.isFirstStartSinceBoot(inventory, bootIDFile: "\(directory)/missing"))
    }
}
