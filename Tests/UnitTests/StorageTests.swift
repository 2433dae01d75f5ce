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
            let info = try await tool.info(DiskImage(path: path, format: format))
            #expect(try await tool.probe(path: path, declared: nil).format == format, "\(name)")
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
        let parentImage = DiskImage(path: parent, format: .vhdx)
        try await tool.createDifferencing(path: child, parent: parentImage)
        let childImage = DiskImage(path: child, format: .qcow2, parentPath: parent)
        let info = try await tool.info(childImage)
        #expect(info.type == .differencing && info.parentPath == parent)
        let probe = try await tool.probe(path: child, declared: nil)
        #expect(probe.parentPath == parent && probe.parentFormat == .vhdx)
        await #expect(throws: ViridianError.self, "a header parent that is not the recorded one is refused") {
            _ = try await tool.info(DiskImage(path: child, format: .qcow2))
        }
        await #expect(throws: ViridianError.self) { try await tool.createDifferencing(path: "\(directory)/c.vhdx", parent: parentImage) }
        await #expect(throws: ViridianError.self) { try await tool.resize(parentImage, sizeBytes: 64 << 20) }
        await #expect(throws: ViridianError.self) { try await tool.resize(childImage, sizeBytes: 16 << 20) }
        try await tool.resize(childImage, sizeBytes: 48 << 20)
        #expect(try await tool.info(childImage).sizeBytes == 48 << 20)

        let percents = PercentLog()
        let converted = "\(directory)/converted.vhdx"
        try await tool.convert(chain: [childImage, parentImage], destinationPath: converted, format: .vhdx, type: .fixed) { percents.add($0) }
        #expect(try await tool.probe(path: converted, declared: nil).format == .vhdx)
        #expect(percents.values.last == 100)
        await #expect(throws: ViridianError.self) {
            try await tool.convert(chain: [childImage, parentImage], destinationPath: converted, format: .qcow2, type: .dynamic) { _ in }
        }

        await #expect(throws: ViridianError.self, "a grown child cannot merge into a VHDX parent") {
            try await tool.merge(child: childImage, into: parentImage) { _ in }
        }
        #expect(FileManager.default.fileExists(atPath: child), "a refused merge changes nothing")
        let sibling = "\(directory)/sibling.qcow2"
        try await tool.createDifferencing(path: sibling, parent: parentImage)
        try await tool.merge(child: DiskImage(path: sibling, format: .qcow2, parentPath: parent), into: parentImage) { _ in }
        #expect(!FileManager.default.fileExists(atPath: sibling))
        await #expect(throws: ViridianError.self) { try await tool.merge(child: parentImage, into: parentImage) { _ in } }
    }

    @Test("refuses relative paths, missing parents, existing files and missing folders")
    func refusals() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tool = try DiskImageTool()
        await #expect(throws: ViridianError.self) { try await tool.create(path: "rel.vhdx", format: .vhdx, type: .dynamic, sizeBytes: 1 << 20) }
        await #expect(throws: ViridianError.self) { try await tool.create(path: "/nonexistent/dir/x.vhdx", format: .vhdx, type: .dynamic, sizeBytes: 1 << 20) }
        await #expect(throws: ViridianError.self) {
            try await tool.createDifferencing(path: "\(directory)/c.qcow2", parent: DiskImage(path: "/nonexistent.vhdx", format: .vhdx))
        }
        await #expect(throws: ViridianError.self) { try await tool.create(path: "\(directory)/big.vhd", format: .vhd, type: .dynamic, sizeBytes: 4 << 40) }
        #expect(QemuImgProgress.lastPercent(in: "    (12.50/100%)\r    (37.01/100%)\r") == 37)
        #expect(QemuImgProgress.lastPercent(in: "nothing") == nil)
    }

    @Test("a raw file is never taken for an image: a guest-written qcow2 header is not followed, decoys are no disks")
    func hostileAndDecoys() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tool = try DiskImageTool()
        let canary = "\(directory)/canary"
        try Data("CANARY-HOST-SECRET".utf8).write(to: URL(fileURLWithPath: canary))
        // What a guest can write into its raw disk: a qcow2 header naming a host file as parent.
        let raw = "\(directory)/data.img"
        try await tool.create(path: raw, format: .raw, type: .dynamic, sizeBytes: 16 << 20)
        let header = "\(directory)/header.qcow2"
        try await tool.createDifferencing(path: header, parent: DiskImage(path: canary, format: .raw))
        let headerBytes = try Data(contentsOf: URL(fileURLWithPath: header))
        let handle = try #require(FileHandle(forWritingAtPath: raw))
        try handle.write(contentsOf: headerBytes.prefix(65536))
        try handle.close()
        let recorded = DiskImage(path: raw, format: .raw)
        let info = try await tool.info(recorded)
        #expect(info.format == .raw && info.parentPath == nil && info.sizeBytes == 16 << 20)
        let copy = "\(directory)/copy.qcow2"
        try await tool.convert(chain: [recorded], destinationPath: copy, format: .qcow2, type: .dynamic) { _ in }
        let flat = "\(directory)/flat.img"
        try await tool.convert(chain: [DiskImage(path: copy, format: .qcow2)], destinationPath: flat, format: .raw, type: .dynamic) { _ in }
        let copied = try Data(contentsOf: URL(fileURLWithPath: flat))
        #expect(copied.range(of: Data("CANARY-HOST-SECRET".utf8)) == nil, "the host file's bytes never reach the copy")
        #expect(copied.prefix(65536) == headerBytes.prefix(65536), "the guest's bytes are copied as data")

        // Decoys: none is a disk, and qemu-img never opens a FIFO.
        let text = "\(directory)/notes.txt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        let fifo = "\(directory)/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let link = "\(directory)/link-to-fifo"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fifo)
        await #expect(throws: ViridianError.self, "a text file is no image unless declared raw") { _ = try await tool.probe(path: text, declared: nil) }
        for decoy in [fifo, link, directory, "/dev/null"] {
            await #expect(throws: ViridianError.self, "\(decoy) is no disk") { _ = try await tool.probe(path: decoy, declared: .raw) }
        }
    }
}

final class PercentLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int] = []
    func add(_ value: Int) { lock.lock(); storage.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return storage }
}
