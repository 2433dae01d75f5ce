// bench/integration: what the integration services cost against the raw engine, same run.
//
// - copy-file (64 MiB each way) against raw virtio-serial throughput: a bare qemu-system-x86_64
//   booting the same test guest with one plain virtserialport, driven from its serial console.
//   A 4 KiB copy shows the fixed cost of one copy (request, job, guest open and commit).
// - exec round trip (`true`) against a raw echo round trip on that port.
// - the time from killing the agent to Lost Communication, and from `vm stop` to Off through
//   the shutdown service.
import APIClient
import APITypes
import AsyncAlgorithms
import BenchSupport
import Foundation
import HostTools

let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 3
let copySize = 64 << 20
let daemon = try await BenchDaemon()
let client = daemon.client
let host = try await client.host()
say("host: \(host.qemuVersion), accelerator \(host.accelerator.rawValue)")
try await client.waitForJob(try await client.buildTestGuest().id)
guard let image = try await client.images().first(where: { $0.name == "test-guest" }) else {
    throw ViridianError(.notFound, "the test guest was not registered")
}

/// Waits until the VM's heartbeat is OK.
func waitForAgent(_ vm: String) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while ContinuousClock.now < deadline {
        if try await client.integrationServices(vm).first(where: { $0.name == "heartbeat" })?.primaryStatus == "OK" { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw ViridianError(.timeout, "the agent of \(vm) did not come up")
}

// MARK: The raw engine: bare QEMU with one plain port, commands over its serial console.

let work = daemon.work
let rawArguments = ["-accel", host.accelerator == .kvm ? "kvm" : "tcg,thread=multi", "-machine", "pc", "-m", "512", "-smp", "1",
                    "-nodefaults", "-no-user-config", "-display", "none", "-kernel", image.kernel, "-initrd", image.initrd ?? "",
                    "-append", image.append ?? "",
                    "-chardev", "socket,id=con,path=\(work)/raw-console.sock,server=on,wait=off", "-serial", "chardev:con",
                    "-device", "virtio-serial-pci",
                    "-chardev", "socket,id=raw,path=\(work)/raw-port.sock,server=on,wait=off",
                    "-device", "virtserialport,chardev=raw,name=bench.raw",
                    "-daemonize", "-pidfile", "\(work)/raw.pid"]
try await HostCommand.check("/usr/bin/qemu-system-x86_64", rawArguments, purpose: "bare QEMU")
let console = try UnixStream(path: "\(work)/raw-console.sock")
_ = try console.readUntil("VIRIDIAN-GUEST-READY", timeout: 120)
let findPort = #"d=$(for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = bench.raw ] && echo /dev/${p##*/}; done)"#
// Markers are quoted in the command, so the shell's echo of the command line never matches them.
try console.write("\n\(findPort); echo PORT-$d-FOUND\n")
_ = try console.readUntil("PORT-/dev/", timeout: 30)
let port = try UnixStream(path: "\(work)/raw-port.sock")

// MARK: Viridian: the same guest with the agent.

_ = try await client.createVM(CreateVMRequest(name: "icbench", memoryMiB: 512, image: "test-guest"))
try await client.waitForJob(try await client.startVM("icbench").id)
try await waitForAgent("icbench")
_ = try await client.setIntegrationService("icbench", "fcopy", enabled: true)
while try await client.integrationServices("icbench").first(where: { $0.name == "fcopy" })?.primaryStatus != "OK" {
    try await Task.sleep(for: .milliseconds(50))
}
let payload = "\(work)/payload.bin"
try Data((0..<copySize).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 9) }).write(to: URL(fileURLWithPath: payload))

/// Runs a program in the Viridian guest through the session service, with no input.
func inGuest(_ arguments: [String]) async throws {
    let session = try await SessionConnection.open(socketPath: daemon.socket, vm: "icbench")
    let input = AsyncChannel<SessionClientInput>()
    let closer = Task { await input.send(.control(SessionControl(closeInput: true))) }
    let end = try await session.run(SessionStart(arguments: arguments, terminal: false, columns: 80, rows: 24, environment: [:]),
                                    input: input) { _, _ in }
    input.finish()
    await closer.value
    guard end.exitCode == 0 else {
        throw ViridianError(.internalError, "'\(arguments.joined(separator: " "))' failed in the guest (exit \(end.exitCode.map(String.init) ?? "none"))")
    }
}

// Both sides do the same guest work: each writes a new tmpfs file, and neither frees one inside a
// timed span (freeing 64 MiB of tmpfs takes the TCG guest 0.1–0.16 s, as much as a quarter of a copy).
var copyIn: [Double] = [], copyOut: [Double] = [], rawIn: [Double] = [], rawOut: [Double] = []
var rawFileIn: [Double] = [], rawFileOut: [Double] = []
for run in 1...runs {
    // Host → guest.
    try await inGuest(["rm", "-f", "/tmp/payload.bin"])
    var start = ContinuousClock.now
    try await client.waitForJob(try await client.copyFile("icbench", CopyFileRequest(
        source: payload, destination: "/tmp/payload.bin", fromGuest: false, createFullPath: false, overwrite: true)).id,
        pollInterval: .milliseconds(10))
    copyIn.append(seconds(ContinuousClock.now - start))
    try console.write("dd if=$d of=/dev/null bs=1M count=\(copySize >> 20) iflag=fullblock 2>/dev/null; echo RAW-IN-\"DONE\"\n")
    start = ContinuousClock.now
    try port.writeZeros(copySize)
    _ = try console.readUntil("RAW-IN-DONE", timeout: 120)
    rawIn.append(seconds(ContinuousClock.now - start))

    // Guest → host.
    try? FileManager.default.removeItem(atPath: "\(work)/back.bin")
    start = ContinuousClock.now
    try await client.waitForJob(try await client.copyFile("icbench", CopyFileRequest(
        source: "/tmp/payload.bin", destination: "\(work)/back.bin", fromGuest: true, createFullPath: false, overwrite: true)).id,
        pollInterval: .milliseconds(10))
    copyOut.append(seconds(ContinuousClock.now - start))
    start = ContinuousClock.now
    try console.write("dd if=/dev/zero of=$d bs=1M count=\(copySize >> 20) 2>/dev/null; echo RAW-OUT-\"DONE\"\n")
    try port.readCount(copySize, timeout: 120)
    rawOut.append(seconds(ContinuousClock.now - start))
    // Wait until the writer closed the port: bytes that reach a port while a writer holds it are dropped on close.
    _ = try console.readUntil("RAW-OUT-DONE", timeout: 120)
    // The same raw transfers with a file at the guest's end, as copy-file has (tmpfs).
    try console.write("dd if=$d of=/tmp/raw.bin bs=1M count=\(copySize >> 20) iflag=fullblock 2>/dev/null; echo RAW-FILE-IN-\"DONE\"\n")
    start = ContinuousClock.now
    try port.writeZeros(copySize)
    _ = try console.readUntil("RAW-FILE-IN-DONE", timeout: 120)
    rawFileIn.append(seconds(ContinuousClock.now - start))
    start = ContinuousClock.now
    try console.write("dd if=/tmp/raw.bin of=$d bs=1M 2>/dev/null; echo RAW-FILE-OUT-\"DONE\"\n")
    try port.readCount(copySize, timeout: 120)
    rawFileOut.append(seconds(ContinuousClock.now - start))
    _ = try console.readUntil("RAW-FILE-OUT-DONE", timeout: 120)
    try console.write("rm /tmp/raw.bin; echo RAW-FILE-\"REMOVED\"\n")
    _ = try console.readUntil("RAW-FILE-REMOVED", timeout: 120)
    say(String(format: "run %d: copy in %.2f s (raw %.2f s, raw to a file %.2f s), copy out %.2f s (raw %.2f s, raw from a file %.2f s)",
               run, copyIn.last!, rawIn.last!, rawFileIn.last!, copyOut.last!, rawOut.last!, rawFileOut.last!))
}
// The fixed cost of one copy (request, job, opening and committing the file in the guest): a 4 KiB file.
let smallPayload = "\(work)/small.bin"
try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: smallPayload))
var smallIn: [Double] = []
for _ in 0..<10 {
    let start = ContinuousClock.now
    try await client.waitForJob(try await client.copyFile("icbench", CopyFileRequest(
        source: smallPayload, destination: "/tmp/small.bin", fromGuest: false, createFullPath: false, overwrite: true)).id,
        pollInterval: .milliseconds(10))
    smallIn.append(seconds(ContinuousClock.now - start))
}
let mib = Double(copySize) / Double(1 << 20)
say(String(format: "copy-file of 4 KiB host→guest (the fixed cost of a copy): median %.0f ms", median(smallIn) * 1000))
say(String(format: "copy-file host→guest: %.0f MiB/s vs raw virtio-serial %.0f MiB/s (ratio %.2f), raw into a guest file %.0f MiB/s (ratio %.2f); target ≥ 0.8",
           mib / median(copyIn), mib / median(rawIn), median(rawIn) / median(copyIn),
           mib / median(rawFileIn), median(rawFileIn) / median(copyIn)))
say(String(format: "copy-file guest→host: %.0f MiB/s vs raw virtio-serial %.0f MiB/s (ratio %.2f), raw from a guest file %.0f MiB/s (ratio %.2f); target ≥ 0.8",
           mib / median(copyOut), mib / median(rawOut), median(rawOut) / median(copyOut),
           mib / median(rawFileOut), median(rawFileOut) / median(copyOut)))

// MARK: Round trips.

say("round trips…")
try console.write("exec 3<>$d; cat <&3 >&3 & echo ECHO-\"READY\"\n")
_ = try console.readUntil("ECHO-READY", timeout: 30)
var rawTrips: [Double] = []
for index in 0..<50 {
    let start = ContinuousClock.now
    try port.write("ping\(index)\n")
    _ = try port.readUntil("ping\(index)\n", timeout: 10)
    rawTrips.append(seconds(ContinuousClock.now - start))
}
var execTrips: [Double] = []
for _ in 0..<30 {
    let start = ContinuousClock.now
    try await inGuest(["true"])
    execTrips.append(seconds(ContinuousClock.now - start))
}
var cliTrips: [Double] = []
for _ in 0..<15 {
    let start = ContinuousClock.now
    let result = try await HostCommand.run("\(daemon.binDirectory)/viridian", ["vm", "exec", "icbench", "--", "true"],
                                           environment: ["VIRIDIAN_HOST": daemon.socket])
    precondition(result.exitCode == 0)
    cliTrips.append(seconds(ContinuousClock.now - start))
}
say(String(format: "exec `true` round trip: API %.1f ms, CLI %.1f ms (process start included); raw port echo %.2f ms",
           median(execTrips) * 1000, median(cliTrips) * 1000, median(rawTrips) * 1000))

// MARK: Heartbeat loss and graceful stop.

var lossTimes: [Double] = [], stopTimes: [Double] = []
for run in 1...runs {
    // A graceful stop through the shutdown service…
    let stopStart = ContinuousClock.now
    let stop = try await client.waitForJob(try await client.stopVM("icbench", StopVMRequest()).id, pollInterval: .milliseconds(10))
    stopTimes.append(seconds(ContinuousClock.now - stopStart))
    precondition(stop.statusMessage?.contains("shut down by the guest") == true, "\(stop.statusMessage ?? "")")
    try await client.waitForJob(try await client.startVM("icbench").id)
    try await waitForAgent("icbench")

    // …then a killed agent. The exec itself fails: the agent serving it dies.
    let start = ContinuousClock.now
    _ = try? await HostCommand.run("\(daemon.binDirectory)/viridian",
                                   ["vm", "exec", "icbench", "--", "sh", "-c", "kill -9 $(cat /run/viridian-guest/agent.pid)"],
                                   environment: ["VIRIDIAN_HOST": daemon.socket])
    while try await client.integrationServices("icbench").first(where: { $0.name == "heartbeat" })?.primaryStatus != "Lost Communication" {
        try await Task.sleep(for: .milliseconds(5))
    }
    lossTimes.append(seconds(ContinuousClock.now - start))
    say(String(format: "run %d: vm stop → Off %.2f s, kill → Lost Communication %.0f ms", run, stopTimes.last!, lossTimes.last! * 1000))
    try await client.waitForJob(try await client.stopVM("icbench", StopVMRequest(turnOff: true)).id)
    try await client.waitForJob(try await client.startVM("icbench").id)
    try await waitForAgent("icbench")
}
say(String(format: "agent killed → Lost Communication: median %.0f ms; vm stop → Off through the shutdown service: median %.2f s",
           median(lossTimes) * 1000, median(stopTimes)))
killBareQEMU(pidFile: "\(work)/raw.pid")
await daemon.shutDown()

