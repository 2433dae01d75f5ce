import Inventory

/// Where each VM's owner is recorded: one record per VM id (owner host, a generation that only
/// grows, state), changed only by compare-and-swap. Every start, arrival and departure goes
/// through it, and a VM runs only where its record says `owned` by this host. This host's
/// inventory implements it now (`LocalOwnershipStore`); the cluster adds an etcd implementation
/// behind the same protocol, where the compare-and-swap spans hosts.
package protocol OwnershipStore: Sendable {
    /// The host this store answers for.
    var hostName: String { get }
    /// The record of `vmID`, if any.
    func record(_ vmID: String) throws -> OwnershipRecord?
    /// Every record.
    func all() throws -> [OwnershipRecord]
    /// Replaces `expected` (nil: no record) with `new` (nil: delete), when the stored record still
    /// has `expected`'s generation and state. - Throws: `conflict` when it changed meanwhile.
    func swap(_ vmID: String, expected: OwnershipRecord?, new: OwnershipRecord?) throws
}
