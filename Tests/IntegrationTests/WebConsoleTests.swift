import APITypes
import Foundation
import Testing

/// What the web console needs on this host: Debian's chromium, chromium-driver, python3-selenium,
/// python3-prometheus-client, novnc and node-xterm (scripts/install-deps.sh installs them).
enum BrowserSupport {
    static let files = ["/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/lib/python3/dist-packages/selenium",
                        "/usr/lib/python3/dist-packages/prometheus_client", "/usr/share/novnc/core/rfb.js",
                        "/usr/share/nodejs/xterm/lib/xterm.js"]
    static var missing: [String] { files.filter { !FileManager.default.fileExists(atPath: $0) } }
    static let script = "\(BuildProducts.packageRoot)/Tests/Browser/console_test.py"
    /// Screenshots of every page and the metrics text, kept after the run.
    static let artifacts = "\(BuildProducts.packageRoot)/.build/test-artifacts/web-console"
}

/// The web console in a real headless browser against a real viridiand and guest: sign-in through
/// PAM with a real account, the live VM list, start and stop from the page, the serial console
/// (xterm.js) and the graphical console (noVNC through the daemon's proxy), the refusals (wrong
/// password, a change without the CSRF token, /metrics without a token), and /metrics parsed by
/// prometheus_client. The browser side is `Tests/Browser/console_test.py`.
@Suite("Web console", .enabled(if: HostSupport.canBoot && UserTools.available, Comment(rawValue: HostSupport.missing)))
struct WebConsoleTests {
    static let account = "viridian-web-test"

    @Test("in a browser: sign in, the live VM list, start and stop, serial and graphical consoles, refusals, metrics", .guests(2))
    func browser() async throws {
        try #require(BrowserSupport.missing.isEmpty,
                     "missing \(BrowserSupport.missing); install: apt-get install chromium chromium-driver python3-selenium python3-prometheus-client novnc node-xterm")
        let password = try await Self.ensureAccount()
        let port = try TestHosts.freePort()
        let daemon = try TestDaemon()
        daemon.arguments = ["--web-listen", "127.0.0.1:\(port)"]
        do {
            try await daemon.start()
            try await daemon.createTestVM("web1", extra: ["--video", "on"])
            try await daemon.createTestVM("web2")
            #expect(await daemon.cli(["vm", "start", "web1"]).exitCode == 0)
            try await daemon.waitForConsole("web1", contains: "VIRIDIAN-GUEST-READY")
            let made = await daemon.cli(["host", "token", "create", "browser-test", "--json"])
            try #require(made.exitCode == 0, "token create: \(made.error)")
            let token = try WireJSON.decoder().decode(CreatedAPIToken.self, from: Data(made.output.utf8)).token
            // /metrics reads the collector's samples: wait until one has seen web1's worker.
            try await eventually("a metrics sample of the running web1", timeout: .seconds(60)) {
                let status = await TestDaemon.run("/usr/bin/curl", ["-sk", "-H", "Authorization: Bearer \(token)", "https://127.0.0.1:\(port)/metrics"])
                return status.output.contains("viridian_vm_cpu_seconds_total{vm=\"web1\"}")
            }
            try? FileManager.default.removeItem(atPath: BrowserSupport.artifacts)
            let diskFolder = "\(daemon.stateDirectory)/web-disks"
            try FileManager.default.createDirectory(atPath: diskFolder, withIntermediateDirectories: true)
            let run = await TestDaemon.run("/usr/bin/python3", [BrowserSupport.script, "--url", "https://127.0.0.1:\(port)",
                                                               "--user", Self.account, "--password", password, "--vm", "web1",
                                                               "--off-vm", "web2", "--token", token, "--disk-dir", diskFolder,
                                                               "--artifacts", BrowserSupport.artifacts])
            #expect(run.exitCode == 0, "the browser checks failed:\n\(run.output)\n\(run.error)\nscreenshots: \(BrowserSupport.artifacts)")

            // What the page did is in the event log under the account's name.
            let events = try await daemon.client.events(vm: "web2")
            #expect(events.contains { $0.user == Self.account && $0.message.contains("web2") },
                    "no web2 event names \(Self.account): \(events.map { "\($0.user ?? "-"): \($0.message)" })")
            let hostEvents = try await daemon.client.events(vm: nil)
            #expect(hostEvents.contains { $0.message.contains("sign-in as '\(Self.account)'") && $0.message.contains("refused") },
                    "the refused sign-in is not in the event log")
            // A revoked token is refused at once.
            #expect(await daemon.cli(["host", "token", "revoke", "browser-test"]).exitCode == 0)
            let revoked = await TestDaemon.run("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}",
                                                                 "-H", "Authorization: Bearer \(token)", "https://127.0.0.1:\(port)/metrics"])
            #expect(revoked.output == "401", "a revoked token got \(revoked.output)")
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }

    /// A system account in group `viridian` with a fresh random password (set each run).
    static func ensureAccount() async throws -> String {
        try await HostAccessTests.ensureUsers()
        let password = "Web-" + UUID().uuidString.prefix(18)
        let set = await TestDaemon.run("/usr/sbin/chpasswd", [], input: "\(account):\(password)\n")
        try #require(set.exitCode == 0, "chpasswd: \(set.error)")
        return password
    }
}
