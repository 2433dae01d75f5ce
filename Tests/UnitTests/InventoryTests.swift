import APITypes
import Foundation
import Inventory
import Testing

@Suite("Inventory")
struct InventoryTests {
    func temporaryInventory() throws -> (Inventory, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inventory-\(UUID().uuidString.prefix(8)).sqlite").path
        return (try Inventory(path: path), path)
    }

    func record(_ name: String) -> VMRecord {
        VMRecord(id: UUID().uuidString, name: name, state: .off,
                 configuration: VMConfiguration(generation: .one, processorCount: 1, memoryMiB: 512, secureBoot: false,
                                                kernelBoot: nil, drives: [], networkAdapters: [], bootOrder: [.hardDisk]),
                 notes: "", image: nil, createdAt: Date(), startedAt: nil)
    }

    @Test("VM names are unique regardless of case, and records survive reopening")
    func vms() throws {
        let (inventory, path) = try temporaryInventory()
        try inventory.insert(record("Web1"))
        #expect(throws: ViridianError.self) { try inventory.insert(record("web1")) }
        var stored = try #require(try inventory.allVMs().first)
        stored.state = .running
        try inventory.update(stored)
        let reopened = try Inventory(path: path)
        #expect(try reopened.allVMs().map(\.state) == [.running])
        try reopened.deleteVM(id: stored.id)
        #expect(try reopened.allVMs().isEmpty)
    }

    @Test("events filter by VM, minimum level and time")
    func events() throws {
        let (inventory, _) = try temporaryInventory()
        try inventory.appendEvent(level: .information, source: .vmms, vm: "a", message: "one")
        try inventory.appendEvent(level: .warning, source: .worker, vm: "a", message: "two")
        try inventory.appendEvent(level: .error, source: .worker, vm: "b", message: "three")
        #expect(try inventory.events(vm: "A", minimumLevel: nil, since: nil, limit: 10).map(\.message) == ["one", "two"])
        #expect(try inventory.events(vm: nil, minimumLevel: .warning, since: nil, limit: 10).map(\.message) == ["two", "three"])
        #expect(try inventory.events(vm: nil, minimumLevel: nil, since: Date().addingTimeInterval(60), limit: 10).isEmpty)
        #expect(try inventory.events(vm: nil, minimumLevel: nil, since: nil, limit: 1).map(\.message) == ["three"])
    }

    @Test("ownership changes only by compare-and-swap on its generation and state")
    func ownershipSwap() throws {
        let (inventory, _) = try temporaryInventory()
        let owned = OwnershipRecord(vmID: "vm1", owner: "hv1", generation: 1)
        try inventory.swapOwnership(vmID: "vm1", expected: nil, expectedState: nil, new: owned)
        #expect(throws: ViridianError.self, "a second claim of a recorded VM") {
            try inventory.swapOwnership(vmID: "vm1", expected: nil, expectedState: nil, new: owned)
        }
        var departing = owned
        departing.state = .departing
        departing.peer = "hv2"
        try inventory.swapOwnership(vmID: "vm1", expected: 1, expectedState: .owned, new: departing)
        #expect(throws: ViridianError.self, "the state it expected is gone") {
            try inventory.swapOwnership(vmID: "vm1", expected: 1, expectedState: .owned, new: owned)
        }
        #expect(throws: ViridianError.self, "a stale generation") {
            try inventory.swapOwnership(vmID: "vm1", expected: 0, expectedState: .departing, new: owned)
        }
        #expect(try inventory.ownership(vmID: "vm1")?.state == .departing)
        try inventory.swapOwnership(vmID: "vm1", expected: 1, expectedState: .departing, new: nil)
        #expect(try inventory.ownership(vmID: "vm1") == nil && inventory.ownerships().isEmpty)
    }
}
