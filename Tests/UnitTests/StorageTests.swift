import APITypes
import Foundation
@testable import Storage
import Testing

/// Disk operations through the real qemu-img.
@Suite("Virtual hard disks", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-img"), "needs qemu-utils (apt-get install qemu-utils)"))
struct StorageTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vhd-\(UUID().uuidString.prefix(8))").path

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    @Test("creates VHDX, VHD and qcow2 disks, fixed and dynamic, and reads them back")
    func create() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tool = try DiskImageTool()
        for (name, format, type) in [("a.vhdx", VHDFormat.vhdx, VHDType.dynamic), ("b.vhdx", .vhdx, .fixed), ("c.vhd", .vhd, .dynamic),
                                     ("d.qcow2", .qcow2, .dynamic), ("e.qcow2", .qcow2, .fixed)] {
            let path = "\(directory)/\(name)"
            try await tool.create(path: path, format: format, type: type, sizeBytes: 64 << 20)
            let info = try await tool.info(path: path)
            #expect(info.format == format && info.sizeBytes >= 64 << 20, "\(name)")
            if format == .qcow2 { #expect(info.type == type, "\(name)") }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.contains("partial") })
    }

    @Test("differencing children of a VHDX parent, resize, convert with progress, merge")
    func chain() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tool = try DiskImageTool()
        let parent = "\(directory)/parent.vhdx", child = "\(directory)/child.qcow2"
        try await tool.create(path: parent, format: .vhdx, type: .dynamic, sizeBytes: 32 << 20)
        try await tool.createDifferencing(path: child, parentPath: parent)
        let info = try await tool.info(path: child)
        #expect(info.type == .differencing && info.parentPath == parent)
        #expect(try await tool.chain(path: child) == [child, parent])
        await #expect(throws: ViridianError.self) { try await tool.createDifferencing(path: "\(directory)/c.vhdx", parentPath: parent) }
        await #expect(throws: ViridianError.self) { try await tool.resize(path: parent, sizeBytes: 64 << 20) }
        await #expect(throws: ViridianError.self) { try await tool.resize(path: child, sizeBytes: 16 << 20) }
        try await tool.resize(path: child, sizeBytes: 48 << 20)
        #expect(try await tool.info(path: child).sizeBytes == 48 << 20)

        let percents = PercentLog()
        let converted = "\(directory)/converted.vhdx"
        try await tool.convert(sourcePath: child, destinationPath: converted, format: .vhdx, type: .fixed) { percents.add($0) }
        #expect(try await tool.info(path: converted).format == .vhdx)
        #expect(percents.values.last == 100)
        await #expect(throws: ViridianError.self) {
            try await tool.convert(sourcePath: child, destinationPath: converted, format: .qcow2, type: .dynamic) { _ in }
        }

        await #expect(throws: ViridianError.self, "a grown child cannot merge into a VHDX parent") {
            _ = try await tool.merge(path: child) { _ in }
        }
        #expect(FileManager.default.fileExists(atPath: child), "a refused merge changes nothing")
        let sibling = "\(directory)/sibling.qcow2"
        try await tool.createDifferencing(path: sibling, parentPath: parent)
        #expect(try await tool.merge(path: sibling) { _ in } == parent)
        #expect(!FileManager.default.fileExists(atPath: sibling))
        await #expect(throws: ViridianError.self) { _ = try await tool.merge(path: parent) { _ in } }
    }

    @Test("refuses relative paths, missing parents, existing files and missing folders")
    func refusals() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tool = try DiskImageTool()
        await #expect(throws: ViridianError.self) { try await tool.create(path: "rel.vhdx", format: .vhdx, type: .dynamic, sizeBytes: 1 << 20) }
        await #expect(throws: ViridianError.self) { try await tool.create(path: "/nonexistent/dir/x.vhdx", format: .vhdx, type: .dynamic, sizeBytes: 1 << 20) }
        await #expect(throws: ViridianError.self) { try await tool.createDifferencing(path: "\(directory)/c.qcow2", parentPath: "/nonexistent.vhdx") }
        await #expect(throws: ViridianError.self) { try await tool.create(path: "\(directory)/big.vhd", format: .vhd, type: .dynamic, sizeBytes: 4 << 40) }
        #expect(QemuImgProgress.lastPercent(in: "    (12.50/100%)\r    (37.01/100%)\r") == 37)
        #expect(QemuImgProgress.lastPercent(in: "nothing") == nil)
    }
}

final class PercentLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int] = []
    func add(_ value: Int) { lock.lock(); storage.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return storage }
}
