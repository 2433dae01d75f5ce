import Inventory

/// The ownership store in this host's inventory (SQLite, one transaction per swap).
package struct LocalOwnershipStore: OwnershipStore {
    package let inventory: Inventory
    package let hostName: String

    package init(inventory: Inventory, hostName: String) {
        self.inventory = inventory
        self.hostName = hostName
    }

    package func record(_ vmID: String) throws -> OwnershipRecord? {
        try inventory.ownership(vmID: vmID)
    }

    package func all() throws -> [OwnershipRecord] {
        try inventory.ownerships()
    }

    package func swap(_ vmID: String, expected: OwnershipRecord?, new: OwnershipRecord?) throws {
        try inventory.swapOwnership(vmID: vmID, expected: expected?.generation, expectedState: expected?.state, new: new)
    }
}
