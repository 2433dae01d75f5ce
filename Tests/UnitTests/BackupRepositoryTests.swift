import APITypes
@testable import Backup
import Foundation
import Testing

/// The backup repository on a real file system: what becomes a repository, chains stored and read
/// back, what an interrupted backup left removed, one operation per chain, checksums that find a
/// flipped byte and say where.
@Suite("Backup repository")
struct BackupRepositoryTests {
    @Test("a repository is a new or empty folder given absolutely; other folders are refused with the reason")
    func creation() async throws {
        try await withTemporaryFolder { folder in
            #expect(throws: ViridianError.self) { try BackupRepository(path: "relative/repo", create: true) }
            #expect(throws: ViridianError.self) { try BackupRepository(path: "\(folder)/a/../b", create: true) }
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(folder)/other.txt"))
            let refused = #expect(throws: ViridianError.self) { try BackupRepository(path: folder, create: true) }
            #expect(refused?.message.contains("holds other files") == true)
            let missing = #expect(throws: ViridianError.self) { try BackupRepository(path: "\(folder)/new", create: false) }
            #expect(missing?.code == .notFound)
            let made = try BackupRepository(path: "\(folder)/new/", create: true)
            #expect(made.root == "\(folder)/new")
            #expect(try BackupRepository(path: "\(folder)/new", create: false).root == made.root)
        }
    }

    @Test("a chain is stored in one rename and read back; point folders it does not name are removed by the next operation")
    func chainsAndLeftovers() async throws {
        try await withTemporaryFolder { folder in
            let repository = try BackupRepository(path: "\(folder)/repo", create: true)
            var chain = BackupChain(vmID: "id-1", vmName: "web1")
            chain.points.append(Self.point("20261202-100000", kind: .full))
            try FileManager.default.createDirectory(atPath: "\(repository.folder(ofVM: "web1"))/20261202-100000", withIntermediateDirectories: true)
            try repository.store(chain)
            let leftover = "\(repository.folder(ofVM: "web1"))/20261202-110000"
            try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
            try await repository.withChainLock(vm: "web1") {
                #expect(!FileManager.default.fileExists(atPath: leftover), "a half-written point is removed")
                #expect(FileManager.default.fileExists(atPath: "\(repository.folder(ofVM: "web1"))/20261202-100000"))
            }
            let read = try #require(try repository.chain(ofVM: "web1"))
            #expect(read.vmID == "id-1" && read.points.map(\.name) == ["20261202-100000"])
            #expect(try repository.chains().map(\.vmName) == ["web1"])
        }
    }

    @Test("one operation per chain: a second one is refused as busy while the first holds the lock")
    func lock() async throws {
        try await withTemporaryFolder { folder in
            let repository = try BackupRepository(path: "\(folder)/repo", create: true)
            try await repository.withChainLock(vm: "web1") {
                let busy = await #expect(throws: ViridianError.self) { try await repository.withChainLock(vm: "web1") {} }
                #expect(busy?.code == .busy)
                try await repository.withChainLock(vm: "web2") {}
            }
            try await repository.withChainLock(vm: "web1") {}
        }
    }

    @Test("checksums find a flipped byte and name its range; a shorter file is found too")
    func checksums() async throws {
        try await withTemporaryFolder { folder in
            let file = "\(folder)/disk0.qcow2"
            try Data((0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: file))
            let taken = try await FileChecksums(of: file)
            #expect(taken.chunks.count == 3 && taken.size == 9 << 20)
            #expect(try await FileChecksums(of: file).difference(from: taken) == nil)
            let handle = try #require(FileHandle(forUpdatingAtPath: file))
            try handle.seek(toOffset: 5 << 20)
            try handle.write(contentsOf: Data([0xff]))
            let flipped = try #require(try await FileChecksums(of: file).difference(from: taken))
            #expect(flipped.contains("bytes 4194304 to 8388607"), "\(flipped)")
            try handle.truncate(atOffset: 8 << 20)
            try handle.close()
            var shorter = try await FileChecksums(of: file)
            shorter.chunks[1] = taken.chunks[1]
            #expect(shorter.difference(from: taken)?.contains("not the \(9 << 20) written") == true)
        }
    }

    @Test("checksums are XXH3-128 now; a point's SHA-256 checksums from before still verify as SHA-256")
    func checksumAlgorithms() async throws {
        try await withTemporaryFolder { folder in
            let file = "\(folder)/nvram.fd"
            try Data("abc".utf8).write(to: URL(fileURLWithPath: file))
            let taken = try await FileChecksums(of: file)
            #expect(taken.algorithm == .xxh3)
            // XXH3-128 of "abc" (xxhsum -H2).
            #expect(taken.chunks == ["06b05ab6733a618578af5f94892f3950"])
            let encoded = try WireJSON.encoder().encode(taken)
            #expect(try WireJSON.decoder().decode(FileChecksums.self, from: encoded) == taken)
            let written = try WireJSON.decoder().decode(FileChecksums.self, from: Data("""
                {"size": 3, "chunks": ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]}
                """.utf8))
            #expect(written.algorithm == .sha256)
            #expect(try await FileChecksums(of: file, algorithm: written.algorithm).difference(from: written) == nil)
        }
    }

    @Test("a restore reads a disk through its point and the points before it, down to the last full one")
    func restoreChain() async throws {
        try await withTemporaryFolder { folder in
            let repository = try BackupRepository(path: "\(folder)/repo", create: true)
            var chain = BackupChain(vmID: "id-1", vmName: "web1")
            chain.points = [Self.point("p1", kind: .full), Self.point("p2", kind: .incremental), Self.point("p3", kind: .full),
                            Self.point("p4", kind: .incremental), Self.point("p5", kind: .incremental)]
            chain.pendingFold = PendingFold(from: "p1", into: "p2")
            #expect(chain.restorable.map(\.name) == ["p2", "p3", "p4", "p5"], "a point being folded away is not restorable")
            let files = try BackupService.files(of: chain.points[0].disks[0], upTo: chain.points[4], in: chain, repository: repository)
            #expect(files == ["p5", "p4", "p3"].map { "\(folder)/repo/web1/\($0)/disk0.qcow2" })
        }
    }

    static func point(_ name: String, kind: BackupKind) -> BackupPoint {
        let configuration = VMConfiguration(generation: .one, processorCount: 1, memoryMiB: 256, secureBoot: false, kernelBoot: nil,
                                            drives: [], networkAdapters: [], bootOrder: [.hardDisk])
        return BackupPoint(name: name, kind: kind, createdAt: Date(), token: UUID().uuidString, applicationConsistent: true, note: nil,
                           configuration: configuration, notes: "", nvram: nil,
                           disks: [BackupDisk(index: 0, path: "/srv/web1.vhdx", format: .vhdx, sizeBytes: 1 << 30, file: "disk0.qcow2", bytes: 0)])
    }
}

/// Runs `body` with a new empty folder, removed afterwards.
private func withTemporaryFolder(_ body: (String) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-unit-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try await body(folder)
}
