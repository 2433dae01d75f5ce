import APITypes
@testable import Daemon
import Engine
import HostTools
import Foundation
import Inventory
import Testing

/// Nothing grows without bound: guest-triggered events, console logs, the event log and the job history.
@Suite("Bounded history")
struct BoundedHistoryTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-bounded-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a guest gets a burst of events, then one per refill; the next recorded one counts what was left out")
    func guestEventLimiter() {
        var limiter = GuestEventLimiter(burst: 3, refill: 30)
        let start = Date(timeIntervalSince1970: 1_000_000)
        let decisions = (0..<1000).map { limiter.admit("vm", now: start.addingTimeInterval(Double($0) * 0.01)) }
        #expect(decisions.prefix(3).allSatisfy { $0 == .record(suppressedBefore: 0) })
        #expect(decisions.dropFirst(3).allSatisfy { $0 == .suppress }, "a thousand flips in 10 s record 3 events")
        #expect(limiter.admit("vm", now: start.addingTimeInterval(40)) == .record(suppressedBefore: 997))
        #expect(limiter.admit("other", now: start) == .record(suppressedBefore: 0), "each VM has its own budget")
        limiter.forget("vm")
        #expect(limiter.admit("vm", now: start.addingTimeInterval(40)) == .record(suppressedBefore: 0))
    }

    @Test("a console log over its cap is copied to .1 and truncated; the writer's next bytes start it again")
    func consoleRotation() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = "\(directory)/console.log"
        // The writer opens the log as QEMU does with logappend=on.
        let fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        try #require(fd >= 0)
        defer { close(fd) }
        func write(_ text: String) { _ = text.withCString { Glibc.write(fd, $0, strlen($0)) } }
        for round in 1...5 {
            write(String(repeating: "\(round)", count: 150))
            try ConsoleLogRotation.rotateIfNeeded(log, maxBytes: 100, generations: 2)
        }
        write("tail")
        #expect(ConsoleLogRotation.files(log, generations: 2).map { ($0 as NSString).lastPathComponent }
                == ["console.log.2", "console.log.1", "console.log"])
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "tail", "the writer continued at the start of the truncated log")
        #expect(try String(contentsOfFile: "\(log).1", encoding: .utf8) == String(repeating: "5", count: 150))
        #expect(!FileManager.default.fileExists(atPath: "\(log).3"), "only two generations are kept")
        let tail = try ConsoleLogRotation.tail(log, count: 10, generations: 2)
        #expect(String(decoding: tail, as: UTF8.self) == "555555tail", "the tail spans the rotated copy")
        #expect(try !ConsoleLogRotation.rotateIfNeeded(log, maxBytes: 100, generations: 2))
    }

    @Test("events and jobs beyond the retention are pruned: by count and by age")
    func pruning() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inventory = try Inventory(path: "\(directory)/inventory.sqlite")
        for index in 0..<50 { try inventory.appendEvent(level: .information, source: .vmms, vm: nil, message: "e\(index)") }
        #expect(try inventory.pruneEvents(keeping: 20, olderThan: Date().addingTimeInterval(-3600)) == 30)
        #expect(try inventory.events(vm: nil, minimumLevel: nil, since: nil, limit: 100).map(\.message).first == "e30")
        #expect(try inventory.pruneEvents(keeping: 100, olderThan: Date().addingTimeInterval(60)) == 20, "all are older than the cutoff")

        let now = Date()
        for index in 0..<10 {
            try inventory.save(JobInfo(id: "job\(index)-\(UUID().uuidString)", kind: "vm.start", vm: nil, description: "", state: .completed,
                                       percentComplete: 100, statusMessage: nil, error: nil,
                                       createdAt: now.addingTimeInterval(Double(index - 10) * 86_400), finishedAt: now))
        }
        #expect(try inventory.pruneJobs(keeping: 6, olderThan: now.addingTimeInterval(-3 * 86_400)) == 7, "older than 3 days: 7 of 10")
        #expect(try inventory.recentJobs(limit: 100).count == 3)
        #expect(try inventory.jobIDs(withPrefix: "job9", limit: 2).count == 1)
        #expect(try inventory.jobIDs(withPrefix: "job%", limit: 2).isEmpty, "LIKE wildcards in a prefix are literal")
    }

    @Test("host settings stored before retention existed keep their values and get the retention defaults")
    func oldSettings() throws {
        let old = #"{"maxMigrations":3,"maxStorageMigrations":1,"migrationNetworks":["10.0.0.0/24"],"memoryReserveMiB":1024}"#
        let settings = try WireJSON.decoder().decode(HostSettings.self, from: Data(old.utf8))
        #expect(settings.maxMigrations == 3 && settings.memoryReserveMiB == 1024)
        #expect(settings.events == .eventDefaults && settings.jobs == .jobDefaults)
    }
}

/// Host programs cannot hang an operation.
@Suite("Host command timeouts")
struct HostCommandTimeoutTests {
    @Test("a program that runs past its timeout is stopped and the call fails with timeout")
    func timeout() async throws {
        let started = ContinuousClock.now
        await #expect(throws: ViridianError.self) {
            try await HostCommand.run("/bin/sleep", ["30"], timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(25), "the sleep was stopped, not waited for")
        let quick = try await HostCommand.run("/bin/echo", ["ok"], timeout: .seconds(30))
        #expect(quick.standardOutput == "ok\n")
    }
}
