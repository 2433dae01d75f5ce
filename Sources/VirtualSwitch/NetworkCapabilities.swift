import APITypes
import Foundation
import HostTools

/// Which kernel and host features switches can use here, found by trying each on a scratch
/// interface (and removing it): permission, tun, bridge, nftables bridge family, tc clsact + mirred, IFB.
public struct NetworkCapabilities: Sendable {
    public var features: [HostNetworkFeature]

    /// Why bridged switches cannot be made here; nil when they can.
    public var switchBlocker: String? {
        features.first { Self.requiredForSwitches.contains($0.name) && !$0.usable }.map { "\($0.name): \($0.detail)" }
    }

    /// Why tc port features (maximum bandwidth, port mirroring) cannot work here; nil when they can.
    public var trafficControlBlocker: String? {
        features.first { ["tc clsact + mirred", "ifb"].contains($0.name) && !$0.usable }.map { "\($0.name): \($0.detail)" }
    }

    static let requiredForSwitches: Set<String> = ["CAP_NET_ADMIN", "tun", "bridge", "nftables bridge family"]

    /// Probes this network namespace.
    public static func probe() async -> NetworkCapabilities {
        var features: [HostNetworkFeature] = []
        let root = geteuid() == 0
        features.append(HostNetworkFeature(name: "CAP_NET_ADMIN", usable: root,
                                           detail: root ? "viridiand runs as root" : "viridiand must run as root to make bridges and taps"))
        let tun = FileManager.default.fileExists(atPath: "/dev/net/tun")
        features.append(HostNetworkFeature(name: "tun", usable: tun, detail: tun ? "/dev/net/tun (taps for VM adapters)" : "/dev/net/tun is missing (modprobe tun)"))
        guard let tools = try? NetworkTools() else {
            let missing = (try? HostExecutable.locate("nft", package: "nftables")) == nil ? "nftables" : "iproute2"
            features.append(HostNetworkFeature(name: "bridge", usable: false, detail: "install with: apt-get install \(missing)"))
            return NetworkCapabilities(features: features)
        }
        let scratch = "vprobe\(getpid() % 100_000)"
        let bridge = await attempt { try await tools.ip(["link", "add", scratch, "type", "bridge"], "creating a test bridge") }
        features.append(HostNetworkFeature(name: "bridge", usable: bridge == nil,
                                           detail: bridge ?? "Linux bridges for external, internal and private switches"))
        let nft = await attempt {
            try await tools.nftLoad("table bridge viridian_probe\ndelete table bridge viridian_probe\n", "loading a bridge-family table")
        }
        features.append(HostNetworkFeature(name: "nftables bridge family", usable: nft == nil,
                                           detail: nft ?? "MAC spoofing, DHCP and router guard, VLAN separation"))
        if bridge == nil {
            let tc = await attempt {
                try await tools.tc(["qdisc", "add", "dev", scratch, "clsact"], "adding clsact")
                try await tools.tc(["filter", "add", "dev", scratch, "ingress", "protocol", "all", "u32", "match", "u32", "0", "0",
                                    "action", "mirred", "egress", "mirror", "dev", scratch], "adding a mirred filter")
            }
            features.append(HostNetworkFeature(name: "tc clsact + mirred", usable: tc == nil, detail: tc ?? "port mirroring, bandwidth redirect"))
            await tools.ipIgnoringFailure(["link", "del", scratch])
        }
        let ifb = await attempt { try await tools.ip(["link", "add", scratch, "type", "ifb"], "creating an IFB device") }
        await tools.ipIgnoringFailure(["link", "del", scratch])
        features.append(HostNetworkFeature(name: "ifb", usable: ifb == nil, detail: ifb ?? "maximum bandwidth (tbf on the VM's outgoing traffic)"))
        let vlanFiltering = await attempt {
            try await tools.ip(["link", "add", scratch, "type", "bridge", "vlan_filtering", "1"], "creating a VLAN-filtering bridge")
        }
        await tools.ipIgnoringFailure(["link", "del", scratch])
        features.append(HostNetworkFeature(name: "bridge VLAN filtering", usable: vlanFiltering == nil,
                                           detail: (vlanFiltering ?? "available") + "; not needed: VLANs are separated with nftables"))
        let vfio = FileManager.default.fileExists(atPath: "/dev/vfio/vfio")
        features.append(HostNetworkFeature(name: "VFIO", usable: vfio, detail: vfio ? "/dev/vfio/vfio" : "/dev/vfio/vfio is missing (modprobe vfio-pci)"))
        let virtualFunctions = HardwareOffloads.nicsWithVirtualFunctions()
        features.append(HostNetworkFeature(name: "SR-IOV", usable: !virtualFunctions.isEmpty,
                                           detail: virtualFunctions.isEmpty ? "no host NIC has SR-IOV virtual functions"
                                                                           : "NICs with virtual functions: \(virtualFunctions.joined(separator: ", "))"))
        return NetworkCapabilities(features: features)
    }

    /// Runs `body`; nil when it worked, else the reason it did not.
    private static func attempt(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as ViridianError {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
