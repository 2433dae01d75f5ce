// bench/backup: what backups cost against the raw engine, same run.
//
// 1. Full backup of an Off VM (its qcow2 root disk and a raw 1 GiB data disk full of random
//    data), `POST /v1/vms/{name}/backup` with mode full into a new repository each run, against
//    `qemu-img convert -O qcow2` of the same two disks, taking turns to go first, each timed from a
//    sync to its output on disk (a second sync): throughput ratio (target ≥ 0.9).
// 2. Incremental backups of the running VM: the guest writes 256 random 64 KiB blocks (direct I/O)
//    of its 1 GiB data disk between points; reported: the bytes the point's data-disk file takes ÷ the
//    bytes the guest dirtied (target ≤ 1.1), and the guest's freeze window the job measured (QEMU
//    is never paused: the copy is copy-before-write).
import APIClient
import APITypes
import BenchSupport
import Foundation
import HostTools

let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 5

let daemon = try await BenchDaemon()
let client = daemon.client
let work = daemon.work
let host = try await client.host()
say("host: \(host.qemuVersion), accelerator \(host.accelerator.rawValue)")
try await client.waitForJob(try await client.buildTestGuest().id)

_ = try await client.createVM(CreateVMRequest(name: "bkbench", memoryMiB: 512, image: "test-guest"))
let dataDisk = "\(work)/data.raw"
_ = try await client.newVHD(NewVHDRequest(path: dataDisk, sizeBytes: 1 << 30, format: .raw, type: .fixed))
try await HostCommand.check("dd", ["if=/dev/urandom", "of=\(dataDisk)", "bs=1M", "count=1024", "conv=notrunc", "status=none"], purpose: "filling the data disk")
_ = try await client.addDisk("bkbench", AddDiskRequest(path: dataDisk))
guard let rootDisk = try await client.vm("bkbench").drives.first(where: { $0.kind == .hardDisk })?.path else {
    throw ViridianError(.notFound, "the VM has no root disk")
}

var backupTimes: [Double] = [], convertTimes: [Double] = []
for run in 1...runs {
    // Each side starts with no dirty pages of the other's writes left to flush and ends when its
    // own are on disk (time to durable: the page cache hides writes otherwise), taking turns going first.
    let backUp = {
        sync()
        let start = ContinuousClock.now
        try await client.waitForJob(try await client.backUp("bkbench", BackupRequest(destinationPath: "\(work)/full-\(run)", mode: .full)).id)
        sync()
        backupTimes.append(seconds(ContinuousClock.now - start))
    }
    let convert = {
        sync()
        let start = ContinuousClock.now
        for (index, disk) in [(0, rootDisk), (1, dataDisk)] {
            try await HostCommand.check("qemu-img", ["convert", "-f", index == 0 ? "qcow2" : "raw", "-O", "qcow2", disk, "\(work)/convert-\(run)-\(index).qcow2"],
                                        purpose: "qemu-img convert")
        }
        sync()
        convertTimes.append(seconds(ContinuousClock.now - start))
    }
    if run % 2 == 1 {
        try await backUp()
        try await convert()
    } else {
        try await convert()
        try await backUp()
    }
    try FileManager.default.removeItem(atPath: "\(work)/full-\(run)")
    for index in 0...1 { try FileManager.default.removeItem(atPath: "\(work)/convert-\(run)-\(index).qcow2") }
    say(String(format: "run %d: full backup of the Off VM %.2f s; qemu-img convert of the same disks %.2f s", run, backupTimes.last!, convertTimes.last!))
}
say(String(format: "full backup, median of %d: %.2f s against qemu-img convert %.2f s: throughput ratio %.2f (target ≥ 0.9)",
           runs, median(backupTimes), median(convertTimes), median(convertTimes) / median(backupTimes)))

try await client.waitForJob(try await client.startVM("bkbench").id)
try await waitForVSS(client, vm: "bkbench")
let repository = "\(work)/incremental"
try await client.waitForJob(try await client.backUp("bkbench", BackupRequest(destinationPath: repository, mode: .full)).id)

/// Writes `count` distinct random 64 KiB blocks of the guest's 1 GiB data disk, bypassing its page cache.
func dirty(_ count: Int) async throws {
    let script = "for b in /sys/block/[sv]d*; do [ $(cat $b/size) = 2097152 ] && dev=/dev/${b##*/}; done; "
        + "for i in $(shuf -i 0-16383 -n \(count)); do dd if=/dev/urandom of=$dev bs=64k count=1 seek=$i oflag=direct conv=notrunc 2>/dev/null; done"
    let result = try await HostCommand.run("\(daemon.binDirectory)/viridian", ["vm", "exec", "bkbench", "--", "sh", "-c", script],
                                           environment: ["VIRIDIAN_HOST": daemon.socket], timeout: .seconds(600))
    guard result.exitCode == 0 else { throw ViridianError(.engineFailure, "the guest's writes failed: \(result.standardError)") }
}

/// The bytes the data disk's file of the chain's newest point takes.
func newestDataBytes() throws -> Int64 {
    struct Chain: Decodable {
        struct Point: Decodable { var disks: [Disk] }
        struct Disk: Decodable {
            var index: Int
            var bytes: Int64
        }
        var points: [Point]
    }
    let chain = try JSONDecoder().decode(Chain.self, from: Data(contentsOf: URL(fileURLWithPath: "\(repository)/bkbench/chain.json")))
    guard let disk = chain.points.last?.disks.first(where: { $0.index == 2 }) else { throw ViridianError(.invalidState, "the chain has no data disk") }
    return disk.bytes
}

let blocks = 256
var ratios: [Double] = [], freezeWindows: [Double] = [], incrementalTimes: [Double] = []
for run in 1...runs {
    try await dirty(blocks)
    let start = ContinuousClock.now
    let job = try await client.waitForJob(try await client.backUp("bkbench", BackupRequest(destinationPath: repository, mode: .incremental)).id)
    incrementalTimes.append(seconds(ContinuousClock.now - start))
    guard let message = job.statusMessage, message.contains("incremental") else {
        throw ViridianError(.engineFailure, "the point was not incremental: \(job.statusMessage ?? "")")
    }
    if let range = message.range(of: #"frozen for (\d+) ms"#, options: .regularExpression) {
        freezeWindows.append((Double(message[range].split(separator: " ")[2]) ?? .nan) / 1000)
    }
    let ratio = Double(try newestDataBytes()) / Double(blocks * 65536)
    ratios.append(ratio)
    say(String(format: "run %d: incremental %.2f s, data disk point %.2f × the %d KiB dirtied, guest frozen %.0f ms",
               run, incrementalTimes.last!, ratio, blocks * 64, (freezeWindows.last ?? .nan) * 1000))
}
say(String(format: "incremental backup of a running VM, median of %d: bytes written ÷ bytes dirtied %.3f (target ≤ 1.1); job %.2f s; "
           + "guest frozen %.0f ms; QEMU paused 0 ms", runs, median(ratios), median(incrementalTimes), median(freezeWindows) * 1000))
await daemon.shutDown()
