// bench/vm-start: how much Viridian adds to booting a VM, and how fast `vm list` is with 1,000 VMs.
//
// Boot: time from `viridian vm start` (the real CLI) to the guest's ready marker on its console,
// against the same kernel, initrd, command line, memory and disk layout booted by a bare
// `qemu-system-x86_64` — interleaved, in the same run. Prints medians and the ratio.
// List: `GET /v1/vms` and the `viridian vm list --json` command with 1,000 VMs in the inventory.
import APIClient
import APITypes
import BenchSupport
import Foundation
import HostTools

let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 7
let inventorySize = Int(ProcessInfo.processInfo.environment["BENCH_VMS"] ?? "") ?? 1000
let marker = "VIRIDIAN-GUEST-READY"

/// Polls `file` every 5 ms until `marker` appears after `offset`; returns when it did.
func waitForMarker(in file: String, after offset: UInt64, timeout: Double = 120) async throws -> ContinuousClock.Instant {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while ContinuousClock.now < deadline {
        if let handle = FileHandle(forReadingAtPath: file) {
            try? handle.seek(toOffset: offset)
            let data = (try? handle.readToEnd()) ?? Data()
            try? handle.close()
            if String(decoding: data, as: UTF8.self).contains(marker) { return ContinuousClock.now }
        }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw ViridianError(.timeout, "no ready marker in \(file)")
}

func fileSize(_ path: String) -> UInt64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64) ?? 0
}

let daemon = try await BenchDaemon()
let client = daemon.client
let binDirectory = daemon.binDirectory
let work = daemon.work
let state = daemon.state
let socket = daemon.socket
let host = try await client.host()
say("host: \(host.qemuVersion), accelerator \(host.accelerator.rawValue) (\(host.acceleratorReason))")

try await client.waitForJob(try await client.buildTestGuest().id)
guard let image = try await client.images().first(where: { $0.name == "test-guest" }) else {
    throw ViridianError(.notFound, "the test guest was not registered")
}
let vm = try await client.createVM(CreateVMRequest(name: "bench", memoryMiB: 512, image: "test-guest"))
let consoleLog = "\(state)/vms/\(vm.id)/console.log"

// The bare QEMU gets its own differencing child of the same image disk, on IDE like the VM's.
let rawDisk = "\(work)/raw.qcow2"
try await HostCommand.check("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "qcow2", rawDisk], purpose: "raw disk")
let rawLog = "\(work)/raw-console.log"
let rawArguments = ["-accel", host.accelerator == .kvm ? "kvm" : "tcg,thread=multi", "-machine", "pc", "-m", "512", "-smp", "1",
                    "-nodefaults", "-no-user-config", "-display", "none", "-kernel", image.kernel, "-initrd", image.initrd ?? "",
                    "-append", image.append ?? "", "-blockdev", "driver=file,filename=\(rawDisk),node-name=f0",
                    "-blockdev", "driver=qcow2,file=f0,node-name=d0", "-device", "ide-hd,drive=d0,bus=ide.0,unit=0",
                    "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0", "-serial", "file:\(rawLog)",
                    "-daemonize", "-pidfile", "\(work)/raw.pid"]

var viridianTimes: [Double] = [], rawTimes: [Double] = []
for run in 1...runs {
    // Viridian: the CLI command, then the marker on the VM's console log.
    let offset = fileSize(consoleLog)
    let start = ContinuousClock.now
    let cli = try await HostCommand.run("\(binDirectory)/viridian", ["vm", "start", "bench"], environment: ["VIRIDIAN_HOST": socket])
    guard cli.exitCode == 0 else { throw ViridianError(.engineFailure, "vm start failed: \(cli.standardError)") }
    viridianTimes.append(seconds(try await waitForMarker(in: consoleLog, after: offset) - start))
    _ = try await HostCommand.run("\(binDirectory)/viridian", ["vm", "stop", "bench", "--turn-off"], environment: ["VIRIDIAN_HOST": socket])

    // Bare QEMU, same guest, daemonized like Viridian's workers.
    try? FileManager.default.removeItem(atPath: rawLog)
    let rawStart = ContinuousClock.now
    try await HostCommand.check("/usr/bin/qemu-system-x86_64", rawArguments, purpose: "bare QEMU")
    rawTimes.append(seconds(try await waitForMarker(in: rawLog, after: 0) - rawStart))
    if let text = try? String(contentsOfFile: "\(work)/raw.pid", encoding: .utf8), let pid = Int32(text.trimmingWhitespace()) {
        kill(pid, SIGKILL)
        while FileManager.default.fileExists(atPath: "/proc/\(pid)") { try await Task.sleep(for: .milliseconds(10)) }
    }
    say("run \(run): viridian \(format(viridianTimes.last!)), bare qemu \(format(rawTimes.last!))")
}
let bootRatio = median(viridianTimes) / median(rawTimes)
say("vm start → ready marker, median of \(runs): viridian \(format(median(viridianTimes))), bare qemu \(format(median(rawTimes))), ratio \(String(format: "%.3f", bootRatio)) (target ≤ 1.10)")

// List latency with a large inventory.
let existing = try await client.listVMs().count
for index in existing..<inventorySize {
    _ = try await client.createVM(CreateVMRequest(name: "inv-\(index)", memoryMiB: 64, kernel: image.kernel, network: "none"))
}
var apiTimes: [Double] = []
for _ in 0..<200 {
    let start = ContinuousClock.now
    let vms = try await client.listVMs()
    apiTimes.append(seconds(ContinuousClock.now - start))
    precondition(vms.count == inventorySize)
}
var cliTimes: [Double] = []
for _ in 0..<30 {
    let start = ContinuousClock.now
    let result = try await HostCommand.run("\(binDirectory)/viridian", ["vm", "list", "--json"], environment: ["VIRIDIAN_HOST": socket])
    cliTimes.append(seconds(ContinuousClock.now - start))
    precondition(result.exitCode == 0)
}
say(String(format: "GET /v1/vms with %d VMs: p50 %.1f ms, p99 %.1f ms (target p99 < 20 ms)",
             inventorySize, median(apiTimes) * 1000, percentile(apiTimes, 0.99) * 1000))
say(String(format: "`viridian vm list --json` with %d VMs (process start included): p50 %.1f ms, p99 %.1f ms",
             inventorySize, median(cliTimes) * 1000, percentile(cliTimes, 0.99) * 1000))
await daemon.shutDown()
