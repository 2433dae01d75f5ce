import APITypes
import Foundation
import Testing

/// Who may drive viridiand: root and the `viridian` group through the socket (0660), nobody else
/// into the state directory. Run as real non-root users, one in the group and one outside it.
/// Whether this host can make the test's users.
enum UserTools {
    static let available = getuid() == 0
        && ["/usr/sbin/useradd", "/usr/sbin/groupadd", "/usr/sbin/runuser"].allSatisfy(FileManager.default.fileExists(atPath:))
}

@Suite("Who may drive viridiand", .enabled(if: HostSupport.hasBuild && UserTools.available,
                                           "needs root, a built viridian and useradd/groupadd/runuser"))
struct HostAccessTests {
    static let member = "viridian-test-in"
    static let outsider = "viridian-test-out"

    @Test("the socket is 0660 group viridian, the state directory 0750: a member drives the daemon, an outsider is told how to join")
    func socketAndStateDirectory() async throws {
        try await Self.ensureUsers()
        try await TestDaemon.with { daemon in
            var socket = stat()
            #expect(stat(daemon.socket, &socket) == 0)
            let group = try #require(getgrnam("viridian")).pointee.gr_gid
            #expect(socket.st_mode & 0o777 == 0o660 && socket.st_gid == group, "socket mode \(String(socket.st_mode & 0o777, radix: 8))")
            var state = stat()
            #expect(stat(daemon.stateDirectory, &state) == 0)
            #expect(state.st_mode & 0o777 == 0o750 && state.st_gid == group, "state mode \(String(state.st_mode & 0o777, radix: 8))")

            // Files viridiand makes are not readable by other users.
            let disk = "\(daemon.stateDirectory)/disks/private.qcow2"
            #expect(await daemon.cli(["vhd", "new", disk, "--size", "8M"]).exitCode == 0)
            var file = stat()
            #expect(stat(disk, &file) == 0)
            #expect(file.st_mode & 0o007 == 0, "a disk viridiand made is mode \(String(file.st_mode & 0o777, radix: 8))")

            let inside = await Self.runAs(Self.member, ["host", "show", "--json", "--host", daemon.socket])
            #expect(inside.exitCode == 0 && inside.output.contains("hostName"), "member: \(inside.exitCode) \(inside.error)")
            let outside = await Self.runAs(Self.outsider, ["vm", "list", "--host", daemon.socket])
            #expect(outside.exitCode == 7, "outsider exit code \(outside.exitCode): \(outside.error)")
            #expect(outside.error.contains("'viridian'") && outside.error.contains("usermod -aG viridian"), "\(outside.error)")
            let peek = await TestDaemon.run("/usr/sbin/runuser", ["-u", Self.outsider, "--", "/bin/cat", disk])
            #expect(peek.exitCode != 0, "an outsider read a disk of the state directory")
        }
    }

    /// The group and the test accounts, made once per test process: suites that need them wait on
    /// one creation instead of racing each other's useradd. An account left from an earlier run whose group was
    /// removed since (`uninstall.sh --purge`) is put back into the group.
    static func ensureUsers() async throws {
        try await accounts.value
    }

    private static let accounts = Task {
        if getgrnam("viridian") == nil {
            let made = await TestDaemon.run("/usr/sbin/groupadd", ["--system", "viridian"])
            try AccountSetupFailure.unless(made.exitCode == 0, "groupadd viridian: \(made.error)")
        }
        for (user, inGroup) in [(member, true), (outsider, false), (WebConsoleTests.account, true)] {
            if getpwnam(user) == nil {
                let made = await TestDaemon.run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
                                                + (inGroup ? ["-G", "viridian"] : []) + [user])
                try AccountSetupFailure.unless(made.exitCode == 0, "useradd \(user): \(made.error)")
            }
            let groups = await TestDaemon.run("/usr/bin/id", ["-nG", user])
            let isMember = groups.output.split(whereSeparator: \.isWhitespace).contains("viridian")
            if inGroup && !isMember {
                let added = await TestDaemon.run("/usr/sbin/usermod", ["-aG", "viridian", user])
                try AccountSetupFailure.unless(added.exitCode == 0, "usermod -aG viridian \(user): \(added.error)")
            } else if !inGroup && isMember {
                let removed = await TestDaemon.run("/usr/bin/gpasswd", ["-d", user, "viridian"])
                try AccountSetupFailure.unless(removed.exitCode == 0, "gpasswd -d \(user) viridian: \(removed.error)")
            }
        }
    }

    /// A thrown error, not `#require`: the creation runs once, and every test waiting on it must
    /// see the failure, not only the one that started it.
    struct AccountSetupFailure: Error, CustomStringConvertible {
        let description: String
        static func unless(_ condition: Bool, _ message: String) throws {
            if !condition { throw AccountSetupFailure(description: message) }
        }
    }

    static func runAs(_ user: String, _ arguments: [String]) async -> CLIResult {
        await TestDaemon.run("/usr/sbin/runuser", ["-u", user, "--", BuildProducts.viridian] + arguments)
    }
}
