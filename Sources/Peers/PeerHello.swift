import APITypes
import Foundation

/// What a peer says about itself (`GET /peer/v1/host`): enough for a source to refuse a move early.
package struct PeerHello: Codable, Sendable {
    /// The host-to-host protocol this host speaks (`PeerProtocol.version`); nil from hosts before it was negotiated.
    package var protocolVersion: Int?
    package var hostName: String
    package var version: String
    package var qemuVersion: String
    package var accelerator: Accelerator
    /// Memory this host can still give VMs.
    package var availableMemoryMiB: Int
    package var logicalProcessors: Int
    /// The virtual switches VMs can connect to.
    package var switches: [String]

    package init(protocolVersion: Int?, hostName: String, version: String, qemuVersion: String, accelerator: Accelerator,
                 availableMemoryMiB: Int, logicalProcessors: Int, switches: [String]) {
        self.protocolVersion = protocolVersion
        self.hostName = hostName
        self.version = version
        self.qemuVersion = qemuVersion
        self.accelerator = accelerator
        self.availableMemoryMiB = availableMemoryMiB
        self.logicalProcessors = logicalProcessors
        self.switches = switches
    }
}

/// The host-to-host protocol: moves between hosts need both to speak the same version.
package enum PeerProtocol {
    /// 2: moves carry the VM's ownership generation, and a commit's outcome is always asked for when its answer is not "committed".
    /// 3: a move carries the VM as `MovingVM` (`vm`), no longer the source's inventory record.
    package static let version = 3

    /// Refuses a peer that speaks another version, saying which side to upgrade.
    package static func requireCompatible(_ hello: PeerHello, peer: String) throws {
        guard hello.protocolVersion == version else {
            let theirs = hello.protocolVersion.map { "version \($0)" } ?? "an older version"
            throw ViridianError(.conflict, "host '\(peer)' runs Viridian \(hello.version), which speaks host protocol \(theirs); this host speaks version \(version): "
                                + "upgrade the older of the two before moving VMs between them")
        }
    }
}
