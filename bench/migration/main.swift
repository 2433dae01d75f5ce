// bench/migration: what Viridian's moves cost against the raw engine, same run.
//
// 1. Live migration of the same test guest under the same load (48 MiB of memory and 512 KiB of
//    disk rewritten in a loop): `vm move` between two viridiand hosts end to end (destination
//    preparation, TLS, handover included) against a bare QEMU-to-QEMU `migrate` to a destination
//    started beforehand, over plain TCP and over TLS with the hosts' own certificates. All use the
//    same bandwidth (no cap) and downtime limit (300 ms). Viridian's guest-visible pause is QEMU's
//    downtime plus the handover (the commit that lets the destination run); a bare destination
//    runs as soon as the stream ends. Where `MemoryCopyRule` pauses the guest for the copy (TCG on
//    QEMU before 9.0, which loses guest writes during a live copy), the bare migrations pause it
//    too, so both sides copy the same way; the downtime is then the whole copy.
// 2. Evacuating 6 idle VMs with `host drain` at --max-migrations 1, 2 and 3, against the
//    sequential drain (limit 1).
import APIClient
import APITypes
import BenchSupport
import Engine
import Foundation
import HostTools
import Logging
import QMP

let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 3
let portA = Int.random(in: 20000...29999)
let portB = portA + 1
let hostA = try await BenchDaemon(arguments: ["--host-name", "bench-a", "--migration-listen", "127.0.0.1:\(portA)"])
let hostB = try await BenchDaemon(arguments: ["--host-name", "bench-b", "--migration-listen", "127.0.0.1:\(portB)"])
let a = hostA.client
let b = hostB.client
_ = try await a.addPeer(AddPeerRequest(name: "bench-b", address: "127.0.0.1:\(portB)", certificate: try await b.hostCertificate().certificate))
_ = try await b.addPeer(AddPeerRequest(name: "bench-a", address: "127.0.0.1:\(portA)", certificate: try await a.hostCertificate().certificate))
let host = try await a.host()
say("host: \(host.qemuVersion), accelerator \(host.accelerator.rawValue), \(host.logicalProcessors) logical processors")
let pauseReason = MemoryCopyRule.pauseReason(accelerator: host.accelerator, qemuVersion: host.qemuVersion)
if let pauseReason { say("both sides pause the guest while its memory is copied: \(pauseReason)") }
try await a.waitForJob(try await a.buildTestGuest().id)
guard let image = try await a.images().first(where: { $0.name == "test-guest" }) else {
    throw ViridianError(.notFound, "the test guest was not registered")
}
let load = "(while true; do dd if=/dev/urandom of=/tmp/dirty-memory bs=1M count=48 2>/dev/null; "
    + "dd if=/dev/urandom of=/mnt/root/dirty bs=64k count=8 conv=notrunc 2>/dev/null; done) </dev/null >/dev/null 2>&1 &"

func waitForAgent(_ client: ViridianClient, _ vm: String) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while ContinuousClock.now < deadline {
        if try await client.integrationServices(vm).first(where: { $0.name == "heartbeat" })?.primaryStatus == "OK" { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw ViridianError(.timeout, "the agent of \(vm) did not come up")
}

// MARK: Bare QEMU: two processes, the destination waiting with -incoming defer.

let work = hostA.work
let disk = "\(work)/bare.qcow2"
// TLS credentials for the bare workers, from the two hosts' own certificates: B's as the server, A's as the client.
for (folder, endpoint, identity) in [("tls-server", "server", hostB.state), ("tls-client", "client", hostA.state)] {
    let directory = "\(work)/\(folder)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let authorities = try String(contentsOfFile: "\(hostA.state)/tls/ca.pem", encoding: .utf8)
        + (try String(contentsOfFile: "\(hostB.state)/tls/ca.pem", encoding: .utf8))
    try authorities.write(toFile: "\(directory)/ca-cert.pem", atomically: true, encoding: .utf8)
    try FileManager.default.copyItem(atPath: "\(identity)/tls/host.pem", toPath: "\(directory)/\(endpoint)-cert.pem")
    try FileManager.default.copyItem(atPath: "\(identity)/tls/host.key", toPath: "\(directory)/\(endpoint)-key.pem")
}
try await HostCommand.check("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "qcow2", disk], purpose: "bare disk")

/// Starts a bare worker named `name`; with `incoming`, it waits for a migration.
func bareWorker(_ name: String, incoming: Bool) async throws -> QMPClient {
    var arguments = ["-accel", host.accelerator == .kvm ? "kvm" : "tcg,thread=multi", "-machine", "pc", "-m", "256", "-smp", "1",
                     "-nodefaults", "-no-user-config", "-display", "none", "-kernel", image.kernel, "-initrd", image.initrd ?? "",
                     "-append", image.append ?? "",
                     "-blockdev", "driver=file,filename=\(disk),node-name=file0", "-blockdev", "driver=qcow2,file=file0,node-name=drive0",
                     "-device", "ide-hd,drive=drive0,bus=ide.0,unit=0,id=disk0",
                     "-chardev", "socket,id=con,path=\(work)/\(name)-console.sock,server=on,wait=off", "-serial", "chardev:con",
                     "-chardev", "socket,id=qmp,path=\(work)/\(name)-qmp.sock,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
                     "-object", "tls-creds-x509,id=tlss,dir=\(work)/tls-server,endpoint=server,verify-peer=on",
                     "-daemonize", "-pidfile", "\(work)/\(name).pid"]
    if incoming { arguments += ["-incoming", "defer"] }
    try await HostCommand.check("/usr/bin/qemu-system-x86_64", arguments, purpose: "bare QEMU")
    return try await QMPClient.connect(socketPath: "\(work)/\(name)-qmp.sock", logger: Logger(label: "bench"))
}

func killBare(_ name: String) {
    killBareQEMU(pidFile: "\(work)/\(name).pid")
}

struct Measure {
    var total: Double
    var downtime: Double
    var megabytes: Double
    /// Viridian's phases from the move's summary (ms): asking the destination to prepare, the stream, the commit.
    var phases: (preparing: Double, streaming: Double, handover: Double)?
}

var bareSource = try await bareWorker("bare0", incoming: false)
do {
    let console = try UnixStream(path: "\(work)/bare0-console.sock")
    _ = try console.readUntil("VIRIDIAN-GUEST-READY", timeout: 120)
    try console.write("\n\(load) echo LOAD-\"STARTED\"\n")
    _ = try console.readUntil("LOAD-STARTED", timeout: 30)
}

/// One bare migration from the current source to a destination started beforehand (not timed).
var bareGeneration = 0
@MainActor func bareMigration(tls: Bool) async throws -> Measure {
    bareGeneration += 1
    let name = "bare\(bareGeneration)"
    let destination = try await bareWorker(name, incoming: true)
    let port = Int.random(in: 30000...39999)
    for client in [bareSource, destination] {
        try await client.setMigrationParameters(["max-bandwidth": .int(1 << 40), "downtime-limit": .int(300)])
    }
    if tls {
        try? await bareSource.objectAdd(type: "tls-creds-x509", id: "tlsc",
                                        properties: ["dir": .string("\(work)/tls-client"), "endpoint": .string("client"), "verify-peer": .bool(true)])
        try await bareSource.setMigrationParameters(["tls-creds": .string("tlsc"), "tls-hostname": .string("bench-b")])
        try await destination.setMigrationParameters(["tls-creds": .string("tlss")])
    } else {
        try await bareSource.setMigrationParameters(["tls-creds": .string("")])
    }
    try await destination.migrateIncoming(uri: "tcp:127.0.0.1:\(port)")
    let pausedAt = pauseReason == nil ? nil : ContinuousClock.now
    if pausedAt != nil { try await bareSource.stop() }
    try await bareSource.migrate(uri: "tcp:127.0.0.1:\(port)")
    while true {
        let info = try await bareSource.queryMigrate()
        if info.status == "completed" {
            let downtime = pausedAt.map { seconds(ContinuousClock.now - $0) * 1000 } ?? Double(info.downtimeMilliseconds ?? 0)
            try? await bareSource.quit()
            bareSource.close()
            killBare("bare\(bareGeneration - 1)")
            bareSource = destination
            try await destination.cont()
            return Measure(total: Double(info.totalMilliseconds ?? 0) / 1000, downtime: downtime,
                           megabytes: Double(info.totalTransferredBytes) / 1048576)
        }
        guard info.status != "failed" else { throw ViridianError(.engineFailure, "bare migration failed: \(info.errorDescription ?? "")") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

// MARK: Viridian: the same guest on host A, moved back and forth.

_ = try await a.createVM(CreateVMRequest(name: "mig", memoryMiB: 256, image: "test-guest"))
try await a.waitForJob(try await a.startVM("mig").id)
try await waitForAgent(a, "mig")
let started = try await HostCommand.run("\(hostA.binDirectory)/viridian", ["vm", "exec", "mig", "--", "sh", "-c", load],
                                        environment: ["VIRIDIAN_HOST": hostA.socket])
guard started.exitCode == 0 else { throw ViridianError(.engineFailure, "the load did not start: \(started.standardError)") }

var where_ = (a, "bench-b", b)
@MainActor func viridianMove() async throws -> Measure {
    let (from, peer, to) = where_
    let started = ContinuousClock.now
    let job = try await from.waitForJob(try await from.moveVM("mig", MoveVMRequest(destination: peer)).id)
    let total = seconds(ContinuousClock.now - started)
    guard job.state == .completed, let message = job.statusMessage else {
        throw ViridianError(.engineFailure, "move failed: \(job.error?.message ?? job.state.rawValue)")
    }
    where_ = (to, peer == "bench-b" ? "bench-a" : "bench-b", from)
    try await waitForAgent(to, "mig")
    let socket = to.socketPath
    let kernel = try await HostCommand.run("\(hostA.binDirectory)/viridian", ["vm", "exec", "mig", "--", "dmesg"],
                                           environment: ["VIRIDIAN_HOST": socket])
    if kernel.standardOutput.contains("BUG") || kernel.standardOutput.contains("Oops") {
        throw ViridianError(.engineFailure, "the guest's kernel reports an error after the move")
    }
    return Measure(total: total, downtime: number(after: "downtime ", in: message) + number(after: "handover ", in: message),
                   megabytes: number(after: "ms, ", in: message),
                   phases: (number(after: "preparing ", in: message), number(after: "streaming ", in: message),
                            number(after: "handover ", in: message)))
}

/// The number after the last `prefix` in `text`.
func number(after prefix: String, in text: String) -> Double {
    guard let range = text.range(of: prefix, options: .backwards) else { return .nan }
    return Double(text[range.upperBound...].prefix { $0.isNumber || $0 == "." }) ?? .nan
}

// Each is measured while the other guest is paused, so both get the same machine; a guest runs
// its load for 3 s after being resumed before it is measured.
var bare: [Measure] = []
var bareTLS: [Measure] = []
var viridian: [Measure] = []
for run in 1...runs {
    _ = try await where_.0.pauseVM("mig")
    for tls in [false, true] {
        try await bareSource.cont()
        try await Task.sleep(for: .seconds(3))
        let measure = try await bareMigration(tls: tls)
        if tls { bareTLS.append(measure) } else { bare.append(measure) }
    }
    try await bareSource.stop()
    _ = try await where_.0.resumeVM("mig")
    try await Task.sleep(for: .seconds(3))
    viridian.append(try await viridianMove())
    let phases = viridian.last!.phases ?? (.nan, .nan, .nan)
    say(String(format: "run %d: bare %.3f s, %.0f ms down, %.1f MiB | bare TLS %.3f s, %.0f ms down | viridian %.3f s, %.0f ms down (with handover), %.1f MiB; "
               + "preparing %.0f ms, streaming %.0f ms, handover %.0f ms",
               run, bare.last!.total, bare.last!.downtime, bare.last!.megabytes, bareTLS.last!.total, bareTLS.last!.downtime,
               viridian.last!.total, viridian.last!.downtime, viridian.last!.megabytes, phases.preparing, phases.streaming, phases.handover))
}
killBare("bare\(bareGeneration)")
let bareTotal = median(bare.map(\.total)), viridianTotal = median(viridian.map(\.total))
let bareDown = median(bare.map(\.downtime)), viridianDown = median(viridian.map(\.downtime))
say(String(format: "live migration, medians of %d: total %.3f s vs bare %.3f s (ratio %.2f, target ≤ 1.25); downtime %.0f ms vs bare %.0f ms (+%.0f ms, target ≤ +50); sent %.1f vs %.1f MiB",
           runs, viridianTotal, bareTotal, viridianTotal / bareTotal, viridianDown, bareDown, viridianDown - bareDown,
           median(viridian.map(\.megabytes)), median(bare.map(\.megabytes))))
let tlsTotal = median(bareTLS.map(\.total)), tlsDown = median(bareTLS.map(\.downtime))
say(String(format: "against bare QEMU over TLS (the same protection): total %.3f s (ratio %.2f); downtime %.0f ms (+%.0f ms)",
           tlsTotal, viridianTotal / tlsTotal, tlsDown, viridianDown - tlsDown))
let (current, _, _) = where_
try await current.waitForJob(try await current.stopVM("mig", StopVMRequest(turnOff: true)).id)

// MARK: Evacuation of 6 VMs at limits 1, 2 and 3.

let names = (1...6).map { "ev\($0)" }
for name in names {
    _ = try await a.createVM(CreateVMRequest(name: name, memoryMiB: 256, image: "test-guest"))
    try await a.waitForJob(try await a.startVM(name).id)
}
for name in names { try await waitForAgent(a, name) }
_ = try await b.setHostSettings(SetHostSettingsRequest(maxMigrations: 3))
var drains: [Int: Double] = [:]
for limit in [1, 2, 3] {
    _ = try await a.setHostSettings(SetHostSettingsRequest(maxMigrations: limit))
    let started = ContinuousClock.now
    let job = try await a.waitForJob(try await a.drain(DrainRequest(peers: ["bench-b"])).id)
    guard job.state == .completed else { throw ViridianError(.engineFailure, "drain failed: \(job.error?.message ?? "")") }
    drains[limit] = seconds(ContinuousClock.now - started)
    say(String(format: "drain of 6 VMs at --max-migrations %d: %.2f s", limit, drains[limit] ?? 0))
    let back = try await b.waitForJob(try await b.drain(DrainRequest(peers: ["bench-a"])).id)
    guard back.state == .completed else { throw ViridianError(.engineFailure, "drain back failed: \(back.error?.message ?? "")") }
    for name in names { try await waitForAgent(a, name) }
}
let sequential = drains[1] ?? .nan
say(String(format: "evacuation: limit 2 takes %.2f and limit 3 %.2f of the sequential time (%.2f s)",
           (drains[2] ?? .nan) / sequential, (drains[3] ?? .nan) / sequential, sequential))

await hostA.shutDown()
await hostB.shutDown()
