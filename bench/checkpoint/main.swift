// bench/checkpoint: what a production checkpoint of a running VM costs against the raw engine, same run.
//
// Viridian: `POST /v1/vms/{name}/checkpoints` on a running test guest (the job: overlays made, the
// guest's file systems frozen through the VSS service, all disks switched in one QMP transaction,
// thawed), then the checkpoint removed (the overlay merged back live). Reported: the job's wall time
// and the freeze window the job measured (what the guest sees stall), and the removal's time.
// Raw engine: a bare qemu-system-x86_64 running the same guest, where the same overlay step is done
// by hand (`qemu-img create -u`, `blockdev-add`, `transaction` of `blockdev-snapshot`), timed from the
// first QMP command to the reply; then merged back with `block-commit`. Neither pauses QEMU.
import APIClient
import APITypes
import BenchSupport
import Foundation
import HostTools
import Logging
import QMP

let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 7

let daemon = try await BenchDaemon()
let client = daemon.client
let work = daemon.work
let host = try await client.host()
say("host: \(host.qemuVersion), accelerator \(host.accelerator.rawValue)")
try await client.waitForJob(try await client.buildTestGuest().id)
guard let image = try await client.images().first(where: { $0.name == "test-guest" }) else {
    throw ViridianError(.notFound, "the test guest was not registered")
}

// Viridian's VM, with its agent up (the freeze goes through it).
_ = try await client.createVM(CreateVMRequest(name: "cpbench", memoryMiB: 512, image: "test-guest"))
try await client.waitForJob(try await client.startVM("cpbench").id)
try await waitForVSS(client, vm: "cpbench")

// The bare QEMU: the same guest on its own differencing child of the image disk.
let rawDisk = "\(work)/raw.qcow2"
try await HostCommand.check("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "qcow2", rawDisk], purpose: "raw disk")
let rawArguments = ["-accel", host.accelerator == .kvm ? "kvm" : "tcg,thread=multi", "-machine", "pc", "-m", "512", "-smp", "1",
                    "-nodefaults", "-no-user-config", "-display", "none", "-kernel", image.kernel, "-initrd", image.initrd ?? "",
                    "-append", image.append ?? "", "-blockdev", "driver=file,filename=\(rawDisk),node-name=f0",
                    "-blockdev", "driver=qcow2,file=f0,node-name=d0", "-device", "ide-hd,drive=d0,bus=ide.0,unit=0,id=disk0",
                    "-qmp", "unix:\(work)/raw-qmp.sock,server=on,wait=off", "-daemonize", "-pidfile", "\(work)/raw.pid"]
try await HostCommand.check("/usr/bin/qemu-system-x86_64", rawArguments, purpose: "bare QEMU")
let qmp = try await QMPClient.connect(socketPath: "\(work)/raw-qmp.sock", logger: Logger(label: "bench"))
let size = try await client.vhd(rawDisk).sizeBytes

var jobTimes: [Double] = [], freezeWindows: [Double] = [], removeTimes: [Double] = [], rawSnapshots: [Double] = [], rawMerges: [Double] = []
for run in 1...runs {
    var start = ContinuousClock.now
    let job = try await client.waitForJob(try await client.createCheckpoint("cpbench", NewCheckpointRequest(name: "run\(run)")).id)
    jobTimes.append(seconds(ContinuousClock.now - start))
    guard let message = job.statusMessage, let range = message.range(of: #"frozen for (\d+) ms"#, options: .regularExpression) else {
        throw ViridianError(.engineFailure, "the checkpoint was not a production one: \(job.statusMessage ?? "")")
    }
    freezeWindows.append((Double(message[range].split(separator: " ")[2]) ?? .nan) / 1000)
    start = ContinuousClock.now
    try await client.waitForJob(try await client.removeCheckpoint("cpbench", "run\(run)", subtree: false).id)
    removeTimes.append(seconds(ContinuousClock.now - start))

    let overlay = "\(work)/raw-overlay-\(run).qcow2"
    try await HostCommand.check("qemu-img", ["create", "-q", "-u", "-f", "qcow2", "-b", rawDisk, "-F", "qcow2", overlay, String(size)],
                                purpose: "raw overlay")
    let root = try await qmp.rootNode(ofDevice: "disk0")
    start = ContinuousClock.now
    try await qmp.snapshotDisks([QMPClient.Overlay(node: root, overlayNode: "o\(run)", file: overlay)])
    rawSnapshots.append(seconds(ContinuousClock.now - start))
    start = ContinuousClock.now
    try await LiveMerge(client: qmp).merge(overlay, into: rawDisk, driveIndex: 0, record: {}) { _, _ in }
    rawMerges.append(seconds(ContinuousClock.now - start))
    try FileManager.default.removeItem(atPath: overlay)
    say(String(format: "run %d: checkpoint job %.0f ms (guest frozen %.0f ms), removal %.0f ms; bare snapshot %.1f ms, bare merge %.0f ms",
               run, jobTimes.last! * 1000, freezeWindows.last! * 1000, removeTimes.last! * 1000, rawSnapshots.last! * 1000, rawMerges.last! * 1000))
}
say(String(format: "production checkpoint of a running VM, median of %d: job %.0f ms, guest frozen %.0f ms; bare blockdev-snapshot %.1f ms; "
           + "QEMU paused 0 ms in both; the guest's stall is the freeze window, %.0f ms more than the bare snapshot (target ≤ 20 ms)",
           runs, median(jobTimes) * 1000, median(freezeWindows) * 1000, median(rawSnapshots) * 1000,
           (median(freezeWindows) - median(rawSnapshots)) * 1000))
say(String(format: "checkpoint removal (live merge back), median: %.0f ms; bare block-commit %.0f ms; ratio %.2f",
           median(removeTimes) * 1000, median(rawMerges) * 1000, median(removeTimes) / median(rawMerges)))
killBareQEMU(pidFile: "\(work)/raw.pid")
await daemon.shutDown()
