import Crypto
import Foundation

/// Names of the kernel interfaces behind switches and ports. Interface names have at most 15
/// characters, so they are short hashes; each link also carries an alias
/// (`viridian:<owner>:…`) that says which viridiand made it and for what, so a daemon cleans up
/// exactly its own links — several daemons may share a network namespace.
public struct LinkNames: Sendable {
    /// A short hash of the daemon's state directory.
    public let owner: String

    public init(stateDirectory: String) {
        owner = Self.hash(stateDirectory, length: 6)
    }

    /// The bridge of a switch: `vb` + 10 hex digits.
    func bridge(switchName: String) -> String {
        "vb" + Self.hash(owner + "/switch/" + switchName.lowercased(), length: 10)
    }

    /// The tap of a VM's adapter: `vt` + 10 hex digits + the adapter index in hex.
    public func tap(vmID: String, index: Int) -> String {
        "vt" + Self.hash(owner + "/vm/" + vmID, length: 10) + String(index, radix: 16)
    }

    /// The IFB device that shapes a tap's incoming traffic (the VM's outgoing traffic).
    func shaper(forTap tap: String) -> String {
        "vi" + tap.dropFirst(2)
    }

    /// The alias of a port's tap: owner, VM id and adapter index.
    func tapAlias(vmID: String, index: Int) -> String { "viridian:\(owner):port:\(vmID):\(index)" }
    /// The alias of a switch's bridge.
    func bridgeAlias(switchName: String) -> String { "viridian:\(owner):switch:\(switchName)" }
    /// Every alias this daemon gives starts with this.
    var aliasPrefix: String { "viridian:\(owner):" }

    /// The nftables table holding this daemon's port rules.
    var ruleTable: String { "viridian_\(owner)" }

    private static func hash(_ text: String, length: Int) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined().prefix(length).description
    }
}
