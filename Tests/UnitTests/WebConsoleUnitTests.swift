import APITypes
import Foundation
import HostTools
import Inventory
import Testing
@testable import WebConsole

@Suite("Web console parts")
struct WebConsoleUnitTests {
    @Test("sessions: found while live, gone after their idle limit, the least recently used dropped at capacity")
    func sessions() {
        let sessions = WebSessions(capacity: 2)
        let first = sessions.open(user: "a")
        #expect(sessions.session(first.id)?.user == "a" && first.csrfToken != first.id && first.id.count >= 43)
        let second = sessions.open(user: "b")
        _ = sessions.session(first.id)
        _ = sessions.open(user: "c")
        #expect(sessions.session(second.id) == nil && sessions.session(first.id) != nil && sessions.count == 2)
        sessions.close(first.id)
        #expect(sessions.session(first.id) == nil)
        let expired = WebSessions(idleLimit: .zero)
        #expect(expired.session(expired.open(user: "a").id) == nil)
    }

    @Test("the sign-in limit: five failures hold a key for the window; a success clears it")
    func rateLimit() {
        let limiter = LoginRateLimiter(failures: 5, window: .seconds(60))
        for _ in 1...4 { limiter.recordFailure(["address:1", "user:a"]) }
        #expect(limiter.delay(for: ["address:1"]) == nil)
        limiter.recordFailure(["address:1", "user:a"])
        #expect(limiter.delay(for: ["address:2", "user:a"]).map { $0 > .seconds(50) } == true, "the user is held from any address")
        limiter.reset(["address:1", "user:a"])
        #expect(limiter.delay(for: ["address:1", "user:a"]) == nil)
        let bounded = LoginRateLimiter(failures: 1, window: .seconds(60), capacity: 3)
        for key in 0..<10 { bounded.recordFailure(["k\(key)"]) }
        #expect(bounded.delay(for: ["k9"]) != nil && bounded.delay(for: ["k0"]) == nil, "the stalest keys are dropped at capacity")
    }

    @Test("API tokens: shown once, stored as a digest, found by their text, refused once revoked")
    func tokens() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inventory = try Inventory(path: "\(folder)/inventory.sqlite")
        let tokens = APITokens(inventory: inventory)
        let made = try tokens.create(name: "grafana")
        #expect(made.token.hasPrefix("vrd_") && made.token.count == 47)
        #expect(try inventory.apiTokens().allSatisfy { $0.digest != made.token && !$0.digest.contains(made.token.dropFirst(4)) })
        #expect(try tokens.authenticate(made.token) == "grafana")
        #expect(try tokens.authenticate(made.token + "x") == nil && tokens.authenticate("grafana") == nil)
        #expect(try tokens.list().first?.lastUsedAt != nil, "a use is noted")
        #expect(throws: ViridianError.self) { try tokens.create(name: "Grafana") }
        #expect(throws: ViridianError.self) { try tokens.create(name: "bad name/") }
        try tokens.revoke(name: "grafana")
        #expect(try tokens.authenticate(made.token) == nil)
        #expect(throws: ViridianError.self) { try tokens.revoke(name: "grafana") }
    }

    @Test("graph history: the last hour is bounded, hours roll up into averages")
    func history() {
        var history = MetricsHistory()
        let start = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 3600))
        for index in 0..<400 {
            history.append(MetricsPoint(time: start.addingTimeInterval(Double(index) * 10), cpuPercent: index < 360 ? 10 : 30, memoryBytes: 0,
                                        diskReadBytesPerSecond: 0, diskWriteBytesPerSecond: 0,
                                        networkReceiveBytesPerSecond: 0, networkTransmitBytesPerSecond: 0))
        }
        #expect(history.recent.count == MetricsHistory.recentCapacity)
        #expect(history.hourly.count == 1 && history.hourly[0].cpuPercent == 10 && history.hourly[0].time == start)
        #expect(history.month.count == 2 && history.month[1].cpuPercent == 30)
    }

    @Test("hourly averages are stored, loaded back and pruned by age and by key")
    func archive() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let archive = InventoryMetricsArchive(inventory: try Inventory(path: "\(folder)/inventory.sqlite"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func point(_ hoursAgo: Double, cpu: Double) -> MetricsPoint {
            MetricsPoint(time: now.addingTimeInterval(-hoursAgo * 3600), cpuPercent: cpu, memoryBytes: 1, diskReadBytesPerSecond: 2,
                         diskWriteBytesPerSecond: 3, networkReceiveBytesPerSecond: 4, networkTransmitBytesPerSecond: 5)
        }
        try archive.store("web1", point(800, cpu: 1))
        try archive.store("web1", point(2, cpu: 20))
        try archive.store("web1", point(1, cpu: 10))
        try archive.store("gone", point(1, cpu: 5))
        let loaded = try archive.load(since: now.addingTimeInterval(-MetricsCollector.retention))
        #expect(loaded["web1"] == [point(2, cpu: 20), point(1, cpu: 10)], "newer than 30 days, oldest first")
        try archive.prune(before: now.addingTimeInterval(-MetricsCollector.retention), keeping: ["web1"])
        let kept = try archive.load(since: .distantPast)
        #expect(kept.keys.sorted() == ["web1"] && kept["web1"]?.count == 2)
        #expect(MetricsHistory(hourly: kept["web1"] ?? []).month.count == 2)
    }

    @Test("the Prometheus exposition names each VM's counters and every state")
    func exposition() {
        var sample = VMSample(name: "web1", state: "Running", memoryBytes: 256 << 20, residentBytes: 100 << 20, cpuSeconds: 12.5)
        sample.blockReadBytes = 4096
        sample.heartbeat = "OK"
        let exposition = MetricsExposition()
        exposition.recordRequest(method: "GET", duration: .milliseconds(3))
        let part = MetricsExposition.render(vms: [sample], host: HostSample(jobsRunning: 2, migrationsRunning: 1), states: ["Off", "Running"])
        let text = String(decoding: exposition.scrape(sample: part), as: UTF8.self)
        for line in ["viridian_vm_cpu_seconds_total{vm=\"web1\"} 12.5", "viridian_vm_block_read_bytes_total{vm=\"web1\"} 4096",
                     "viridian_vm_heartbeat_ok{vm=\"web1\"} 1.0", "viridian_host_vms{state=\"Off\"} 0.0",
                     "viridian_host_vms{state=\"Running\"} 1.0", "viridian_host_jobs_running 2.0", "# TYPE viridian_vm_cpu_seconds_total counter",
                     "viridian_api_request_duration_seconds_count{method=\"GET\"} 1"] {
            #expect(text.contains(line), "missing \(line) in:\n\(text)")
        }
    }

    @Test("asset paths: only plain names under the known folders")
    func assetPaths() throws {
        let assets = WebAssets()
        for path in ["/assets/../x", "/assets/.hidden", "/novnc/app/ui.js", "/novnc/core/../../etc/passwd", "/other/x", "/assets/a\\b"] {
            #expect(try assets.asset(path) == nil, "\(path) is served")
        }
        #expect(WebAssets.contentType("x/rfb.js") == "text/javascript; charset=utf-8")
    }

    @Test("the CommonJS bundle resolves relative requires and exports the entry as a global (run by node)",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/node"), "needs Debian's nodejs (a dependency of novnc)"))
    func commonJSBundle() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cjs-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: "\(folder)/lib/inner", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"var b = require("./inner/b"); module.exports = function () { return "a+" + b.name; };"#
            .write(toFile: "\(folder)/lib/a.js", atomically: true, encoding: .utf8)
        try #"exports.name = "b" + require("../c").value;"#.write(toFile: "\(folder)/lib/inner/b.js", atomically: true, encoding: .utf8)
        try #"exports.value = 1;"#.write(toFile: "\(folder)/lib/c.js", atomically: true, encoding: .utf8)
        try "throw new Error('tests are left out');".write(toFile: "\(folder)/lib/a.test.js", atomically: true, encoding: .utf8)
        let bundle = try CommonJSBundle.build(root: "\(folder)/lib", entry: "a", global: "Made")
        try bundle.write(toFile: "\(folder)/bundle.js", atomically: true, encoding: .utf8)
        let node = try await HostCommand.run("/usr/bin/node", [
            "-e", "global.window = global; require('\(folder)/bundle.js'); console.log(window.Made())",
        ], timeout: .seconds(120))
        #expect(node.exitCode == 0 && node.standardOutput == "a+b1\n", "node printed \(node.standardOutput)\(node.standardError)")
        #expect(throws: ViridianError.self) { try CommonJSBundle.build(root: "\(folder)/lib", entry: "missing", global: "X") }
    }
}
