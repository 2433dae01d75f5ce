import APITypes
import Foundation
import HostTools

/// SR-IOV, VMQ and IPsec task offload need NIC hardware. This finds what the switch's NIC has
/// and says, per adapter, what is in effect and why — nothing is claimed that the host cannot do.
public enum HardwareOffloads {
    /// Host NICs whose device reports SR-IOV virtual functions.
    static func nicsWithVirtualFunctions() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        return names.sorted().filter { virtualFunctions(of: $0) > 0 }
    }

    static func virtualFunctions(of nic: String) -> Int {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(nic)/device/sriov_totalvfs", encoding: .utf8) else { return 0 }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// The effective SR-IOV, VMQ and IPsec state of an adapter with `settings` on a switch whose
    /// uplink is `uplink` (nil for internal and private switches).
    public static func effective(_ settings: PortSettings, uplink: String?, ipsecOffloadCapable: Bool) -> [EffectiveFeature] {
        let noNIC = "the switch has no physical NIC (internal or private switch)"
        var features: [EffectiveFeature] = []

        let iovReason: String
        if let uplink {
            let functions = virtualFunctions(of: uplink)
            iovReason = functions == 0 ? "host NIC \(uplink) has no SR-IOV virtual functions"
                : "host NIC \(uplink) has \(functions) virtual functions, but Viridian does not assign them to VMs yet"
        } else {
            iovReason = noNIC
        }
        features.append(EffectiveFeature(name: "SR-IOV", requested: settings.iovWeight > 0 ? "weight \(settings.iovWeight)" : "Off",
                                         effective: settings.iovWeight > 0 ? "Unavailable" : "Off",
                                         reason: settings.iovWeight > 0 ? iovReason : nil))

        let vmqReason = uplink.map { "Linux bridges have no VMQ; host NIC \($0) spreads received traffic by RSS and the VM's queues by vRSS" } ?? noNIC
        features.append(EffectiveFeature(name: "VMQ", requested: settings.vmqWeight > 0 ? "weight \(settings.vmqWeight)" : "Off",
                                         effective: settings.vmqWeight > 0 ? "Unavailable" : "Off",
                                         reason: settings.vmqWeight > 0 ? vmqReason : nil))

        let ipsecWanted = settings.ipsecOffloadMaximumSecurityAssociations > 0
        let ipsecReason = uplink.map { nic in
            ipsecOffloadCapable ? "host NIC \(nic) offloads ESP, but virtio-net cannot pass IPsec offload to a guest"
                : "host NIC \(nic) has no IPsec (ESP) hardware offload"
        } ?? noNIC
        features.append(EffectiveFeature(name: "IPsec task offload",
                                         requested: ipsecWanted ? "\(settings.ipsecOffloadMaximumSecurityAssociations) SAs" : "Off",
                                         effective: ipsecWanted ? "Unavailable" : "Off", reason: ipsecWanted ? ipsecReason : nil))
        return features
    }
}

extension SwitchFabric {
    /// SR-IOV, VMQ and IPsec task offload of an adapter with `settings` on `switchName`, as in effect here.
    public func hardwareFeatures(_ settings: PortSettings, switchName: String) async -> [EffectiveFeature] {
        let uplink = switches[switchName.lowercased()].flatMap { $0.type == .external ? $0.adapter : nil }
        var esp = false
        if let uplink, let ethtool = try? HostExecutable.locate("ethtool", package: "ethtool"),
           let output = try? await HostCommand.run(ethtool, ["-k", uplink]) {
            esp = output.standardOutput.split(separator: "\n").contains { $0.hasPrefix("esp-hw-offload: on") }
        }
        return HardwareOffloads.effective(settings, uplink: uplink, ipsecOffloadCapable: esp)
    }
}
