// bench/network: VM-to-VM TCP throughput through a Viridian switch with its port features on,
// against the same two QEMU guests on a plain Linux bridge with no rules, same run.
//
// Viridian: a private switch, two test-guest VMs with MAC spoofing filtered, DHCP guard, router
// guard, VLAN access 10 on both, and a maximum bandwidth far above what the guests reach (so its
// IFB + tbf path is crossed but never limits). Bare: two QEMU processes started by hand with taps
// on a plain bridge. iperf3 runs in the guests (6 s per run); the pair not measured is paused.
// Both at MTU 1500 and 9000 (switch, taps and the guests' virtio-net host_mtu).
// BENCH_NO_CAP=1 leaves the maximum bandwidth off, to see what its IFB path costs.
// Needs root (bridges, taps, nftables).
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
let host = try await client.host()
say("host: \(host.qemuVersion), accelerator \(host.accelerator.rawValue), \(host.logicalProcessors) logical processors")
try await client.waitForJob(try await client.buildTestGuest().id)
guard let image = try await client.images().first(where: { $0.name == "test-guest" }) else {
    throw ViridianError(.notFound, "the test guest was not registered")
}
let work = daemon.work

func ip(_ arguments: [String]) async throws {
    try await HostCommand.check("/usr/sbin/ip", arguments, purpose: "ip \(arguments.joined(separator: " "))")
}

/// Reads the sender's rate (Mbit/s) from `iperf3 -f m` output.
func senderRate(_ output: String) throws -> Double {
    guard let line = output.split(separator: "\n").last(where: { $0.contains("sender") }),
          let index = line.split(separator: " ").firstIndex(of: "Mbits/sec"),
          let rate = Double(line.split(separator: " ")[line.split(separator: " ").index(before: index)])
    else { throw ViridianError(.engineFailure, "no iperf3 rate in: \(output.suffix(300))") }
    return rate
}

// MARK: Bare: two QEMU processes, taps on a plain bridge.

let bridge = "vbenchbr\(getpid() % 1000)"
final class BareGuest {
    let name: String
    let qmp: QMPClient
    let console: UnixStream

    init(name: String, qmp: QMPClient, console: UnixStream) {
        self.name = name
        self.qmp = qmp
        self.console = console
    }

    /// Runs a shell command on the serial console and returns what it printed before the marker.
    func run(_ command: String, timeout: Double = 60) throws -> String {
        let marker = "DONE-\(UInt32.random(in: 0...UInt32.max))"
        try console.write("\(command); echo \(marker.prefix(5))\"\(marker.dropFirst(5))\"\n")
        return try console.readUntil(marker, timeout: timeout)
    }
}

func startBare(_ index: Int, mtu: Int) async throws -> BareGuest {
    let name = "bare\(index)-\(mtu)"
    let tap = "vbt\(getpid() % 1000)x\(index)"
    try await ip(["tuntap", "add", tap, "mode", "tap"])
    try await ip(["link", "set", tap, "mtu", String(mtu), "master", bridge, "up"])
    let disk = "\(work)/\(name).qcow2"
    try await HostCommand.check("/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "qcow2", disk], purpose: "bare disk")
    let arguments = ["-accel", host.accelerator == .kvm ? "kvm" : "tcg,thread=multi", "-machine", "pc", "-m", "256", "-smp", "1",
                     "-nodefaults", "-no-user-config", "-display", "none", "-kernel", image.kernel, "-initrd", image.initrd ?? "",
                     "-append", "\(image.append ?? "") viridian.ip=10.9.1.\(index)/24",
                     "-blockdev", "driver=file,filename=\(disk),node-name=file0", "-blockdev", "driver=qcow2,file=file0,node-name=drive0",
                     "-device", "ide-hd,drive=drive0,bus=ide.0,unit=0,id=disk0",
                     "-netdev", "tap,id=n0,ifname=\(tap),script=no,downscript=no,vhost=off",
                     "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:be:00:0\(index)" + (mtu == 1500 ? "" : ",host_mtu=\(mtu)"),
                     "-chardev", "socket,id=con,path=\(work)/\(name)-console.sock,server=on,wait=off", "-serial", "chardev:con",
                     "-chardev", "socket,id=qmp,path=\(work)/\(name)-qmp.sock,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
                     "-daemonize", "-pidfile", "\(work)/\(name).pid"]
    try await HostCommand.check("/usr/bin/qemu-system-x86_64", arguments, purpose: "bare QEMU")
    let console = try UnixStream(path: "\(work)/\(name)-console.sock")
    _ = try console.readUntil("VIRIDIAN-GUEST-READY", timeout: 180)
    try console.write("\n")
    return BareGuest(name: name, qmp: try await QMPClient.connect(socketPath: "\(work)/\(name)-qmp.sock", logger: Logger(label: "bench")),
                     console: console)
}

func stopBare(_ guests: [BareGuest]) async {
    for guest in guests {
        try? await guest.qmp.quit()
        guest.qmp.close()
    }
    for index in 1...2 { try? await ip(["link", "del", "vbt\(getpid() % 1000)x\(index)"]) }
}

// MARK: Viridian: two VMs on a private switch with the port features on.

/// Runs a program in a VM through `viridian vm exec` and returns its output.
func exec(_ vm: String, _ arguments: [String]) async throws -> String {
    let result = try await HostCommand.run("\(daemon.binDirectory)/viridian", ["vm", "exec", vm, "--"] + arguments,
                                           environment: ["VIRIDIAN_HOST": daemon.socket])
    guard result.exitCode == 0 else { throw ViridianError(.engineFailure, "\(arguments) in \(vm): \(result.errorSummary)") }
    return result.standardOutput
}

func waitForAgent(_ vm: String) async throws {
    let deadline = ContinuousClock.now + .seconds(180)
    while ContinuousClock.now < deadline {
        if try await client.integrationServices(vm).first(where: { $0.name == "heartbeat" })?.primaryStatus == "OK" { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw ViridianError(.timeout, "the agent of \(vm) did not come up")
}

let capped = ProcessInfo.processInfo.environment["BENCH_NO_CAP"] == nil
let features = "MAC spoofing filtered, DHCP guard, router guard, VLAN access 10" + (capped ? ", maximum bandwidth 90 Gbit/s" : "")

var results: [(mtu: Int, bare: [Double], viridian: [Double])] = []
try await ip(["link", "add", bridge, "type", "bridge"])
_ = try await client.createSwitch(NewSwitchRequest(name: "bench", type: .private))
for (index, name) in ["va", "vb"].enumerated() {
    _ = try await client.createVM(CreateVMRequest(name: name, memoryMiB: 256, image: "test-guest",
                                                  append: "viridian.ip=10.9.0.\(index + 1)/24", switchName: "bench"))
}
do {
    for mtu in [1500, 9000] {
        try await ip(["link", "set", bridge, "mtu", String(mtu), "up"])
        _ = try await client.setSwitch("bench", SetSwitchRequest(mtu: mtu))
        var request = SetNetworkAdapterRequest()
        request.mtu = mtu
        request.macAddressSpoofing = false
        request.dhcpGuard = true
        request.routerGuard = true
        request.vlan = VLANSetting(mode: .access, accessID: 10)
        request.maximumBandwidth = capped ? 90_000_000_000 : 0
        for name in ["va", "vb"] {
            _ = try await client.setNetworkAdapter(name, index: 0, request)
            try await client.waitForJob(try await client.startVM(name).id)
        }
        for name in ["va", "vb"] { try await waitForAgent(name) }
        _ = try await exec("vb", ["iperf3", "-s", "-D"])
        let bare = [try await startBare(1, mtu: mtu), try await startBare(2, mtu: mtu)]
        _ = try bare[1].run("iperf3 -s -D")
        var bareRates: [Double] = []
        var viridianRates: [Double] = []
        for _ in 0..<runs {
            for name in ["va", "vb"] { _ = try await client.pauseVM(name) }
            for guest in bare { _ = try await guest.qmp.execute("cont") }
            bareRates.append(try senderRate(try bare[0].run("iperf3 -c 10.9.1.2 -t 6 -f m")))
            for guest in bare { _ = try await guest.qmp.execute("stop") }
            for name in ["va", "vb"] { _ = try await client.resumeVM(name) }
            viridianRates.append(try senderRate(try await exec("va", ["iperf3", "-c", "10.9.0.2", "-t", "6", "-f", "m"])))
        }
        await stopBare(bare)
        for name in ["va", "vb"] {
            try await client.waitForJob(try await client.stopVM(name, StopVMRequest(turnOff: true)).id)
        }
        results.append((mtu, bareRates, viridianRates))
        say("MTU \(mtu): bare bridge \(bareRates.map { String(format: "%.0f", $0) }) Mbit/s, "
            + "Viridian switch \(viridianRates.map { String(format: "%.0f", $0) }) Mbit/s")
    }
} catch {
    try? await ip(["link", "del", bridge])
    await daemon.shutDown()
    throw error
}
try? await ip(["link", "del", bridge])
await daemon.shutDown()

say("")
say("VM-to-VM TCP, iperf3 6 s, medians of \(runs) (port features: \(features))")
for result in results {
    let bare = median(result.bare)
    let viridian = median(result.viridian)
    say(String(format: "MTU %d: bare bridge %.0f Mbit/s, Viridian switch %.0f Mbit/s, ratio %.2f (target >= 0.9)",
               result.mtu, bare, viridian, viridian / bare))
}
if results.count == 2 {
    say(String(format: "MTU 9000 against 1500 through Viridian: %.2fx; bare: %.2fx",
               median(results[1].viridian) / median(results[0].viridian), median(results[1].bare) / median(results[0].bare)))
}
