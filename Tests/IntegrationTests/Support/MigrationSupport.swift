import APITypes
import Foundation
import HostTools
import Testing

/// Several viridiand hosts on this machine that trust each other, each with a migration listener.
final class TestHosts: @unchecked Sendable {
    let hosts: [TestDaemon]
    let names: [String]

    private init(hosts: [TestDaemon], names: [String]) {
        self.hosts = hosts
        self.names = names
    }

    /// Starts `count` hosts named `host-1`…, listening on `listenAddresses` (loopback by default),
    /// optionally each inside a network namespace, makes every pair peers, runs `body`, tears down.
    static func with(count: Int, namespaces: [String]? = nil, listenAddresses: [String]? = nil, arguments: [String] = [],
                     _ body: (TestHosts) async throws -> Void) async throws {
        var hosts: [TestDaemon] = []
        var names: [String] = []
        var endpoints: [String] = []
        do {
            for index in 0..<count {
                let daemon = try TestDaemon()
                let name = "host-\(index + 1)"
                let port = try freePort()
                let listen = "\(listenAddresses?[index] ?? "127.0.0.1"):\(port)"
                daemon.arguments = ["--host-name", name, "--migration-listen", namespaces == nil ? listen : "0.0.0.0:\(port)"] + arguments
                if let namespaces { daemon.launchPrefix = ["/usr/sbin/ip", "netns", "exec", namespaces[index]] }
                try await daemon.start()
                hosts.append(daemon)
                names.append(name)
                endpoints.append(listen)
            }
            let set = TestHosts(hosts: hosts, names: names)
            for (index, host) in hosts.enumerated() {
                for (other, peer) in hosts.enumerated() where other != index {
                    try await set.trust(peer, as: names[other], at: endpoints[other], on: host)
                }
            }
            try await body(set)
        } catch {
            for host in hosts { await host.tearDown() }
            throw error
        }
        for host in hosts { await host.tearDown() }
    }

    /// Adds `peer` (its certificate) to `host`'s peer list.
    func trust(_ peer: TestDaemon, as name: String, at address: String, on host: TestDaemon) async throws {
        let file = "\(host.stateDirectory)/peer-\(name).pem"
        let certificate = await peer.cli(["host", "certificate"])
        try #require(certificate.exitCode == 0, "host certificate failed: \(certificate.error)")
        try certificate.output.write(toFile: file, atomically: true, encoding: .utf8)
        let add = await host.cli(["host", "peer", "add", name, "--address", address, "--certificate", file])
        try #require(add.exitCode == 0, "peer add failed: \(add.error)")
    }

    subscript(_ index: Int) -> TestDaemon { hosts[index] }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(socket, raw, length) == 0 && getsockname(socket, raw, &length) == 0
            }
        }
        try #require(ok, "no free port")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension TestDaemon {
    /// The VM's state here, or nil when this host does not have it.
    func state(of vm: String) async -> VMState? {
        try? await client.listVMs().first { $0.name == vm }?.state
    }

    /// The guest's uptime in seconds (`/proc/uptime`).
    func guestUptime(_ vm: String) async throws -> Double {
        let result = await exec(vm, ["cat", "/proc/uptime"])
        try #require(result.exitCode == 0, "uptime failed: \(result.error)")
        return try #require(Double(result.output.split(separator: " ").first ?? ""))
    }

    /// Starts a guest program that keeps writing to memory and to the disk until the VM ends.
    func startDirtying(_ vm: String) async throws {
        let script = "i=0; while true; do dd if=/dev/urandom of=/tmp/dirty-memory bs=1M count=48 2>/dev/null; "
            + "dd if=/dev/urandom of=/mnt/root/dirty bs=64k count=8 conv=notrunc 2>/dev/null; i=$((i+1)); echo $i > /mnt/root/rounds; "
            + "echo \"$i $(cut -d' ' -f1 /proc/uptime)\" >> /tmp/rounds.log; done"
        let result = await exec(vm, ["sh", "-c", "(\(script)) </dev/null >/dev/null 2>&1 &"])
        try #require(result.exitCode == 0, "starting the writer failed: \(result.error)")
    }

    /// Waits until the writer of `startDirtying` finishes another round; when it does not, reports the
    /// rounds' guest uptimes, the guest's processes and kernel log, and the console.
    func expectWriterProgress(_ vm: String, timeout: Duration = .seconds(90)) async throws {
        let rounds = await exec(vm, ["cat", "/mnt/root/rounds"]).output
        try await eventually("the guest's writer keeps going (it stopped at round \(rounds.trimmingWhitespace()))", timeout: timeout, details: {
            let guest = await self.exec(vm, ["sh", "-c", "tail -5 /tmp/rounds.log; cat /proc/uptime; ps; "
                                                 + "for p in $(pgrep dd); do echo $p $(cat /proc/$p/wchan); done; dmesg | tail -40"])
            return "\(guest.output)\(guest.error)\n\(await self.diagnostics(vm))"
        }) {
            await self.exec(vm, ["cat", "/mnt/root/rounds"]).output != rounds
        }
    }

    /// Records an issue when the guest's kernel logged a memory or kernel error (a move must never corrupt the guest).
    func expectHealthyKernel(_ vm: String) async {
        let kernel = await exec(vm, ["dmesg"]).output
        let problems = kernel.split(separator: "\n").filter { $0.contains("BUG") || $0.contains("Oops") || $0.contains("general protection") }
        #expect(problems.isEmpty, "the guest's kernel reports: \(problems.prefix(3))")
    }

    /// Waits until `job` finished and returns it.
    func waitForJob(_ id: String, timeout: Duration = .seconds(180)) async throws -> JobInfo {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let job = try await client.job(id)
            if job.state.isFinished { return job }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ViridianError(.timeout, "job \(id) did not finish")
    }

    /// The runtime folders of workers under this host's state directory.
    var runtimeFolders: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(stateDirectory)/run")) ?? []
    }
}
