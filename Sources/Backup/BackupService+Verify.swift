import APITypes
import Foundation
import HostServices

extension BackupService {
    /// Reads every file of the repository's points (or one VM's) against the checksums taken when
    /// they were written, as a job: it fails naming each point, file and byte range that differs.
    package func verify(_ request: VerifyBackupRequest) throws -> JobInfo {
        let repository = try BackupRepository(path: request.path, create: false)
        let names = try request.vm.map { [try requireChain(repository, vm: $0).vmName] } ?? repository.chains().map(\.vmName)
        return job(kind: "backup.verify", vm: request.vm ?? "", description: "Verifying the backups in \(repository.root)",
                   failure: "verifying \(repository.root)") { progress in
            var problems: [String] = []
            var points = 0
            var bytes: Int64 = 0
            for (number, name) in names.enumerated() {
                progress.report(number * 100 / max(names.count, 1), "reading the backups of \(name)")
                try await repository.withChainLock(vm: name) {
                    guard var chain = try repository.chain(ofVM: name) else { return }
                    try await finishInterruptedFold(&chain, repository: repository)
                    for point in chain.points {
                        points += 1
                        let found = await check(point, of: chain, in: repository)
                        problems += found.problems.map { "VM '\(name)' point \(point.name): \($0)" }
                        bytes += found.bytes
                    }
                }
            }
            guard problems.isEmpty else {
                let listed = problems.prefix(20).joined(separator: "; ")
                throw ViridianError(.invalidState, "\(problems.count) problem\(problems.count == 1 ? "" : "s") in \(repository.root): \(listed)"
                                    + (problems.count > 20 ? "; …" : ""))
            }
            let summary = "verified \(points) point\(points == 1 ? "" : "s") of \(names.count) VM\(names.count == 1 ? "" : "s") in \(repository.root) "
                + "(\(ByteSize.format(UInt64(bytes))) read): every block matches its checksum"
            events.record(.information, .backup, vm: request.vm, summary)
            return summary
        }
    }

    /// Every file of `point` read against its checksums: the differences, and the bytes read.
    func check(_ point: BackupPoint, of chain: BackupChain, in repository: BackupRepository) async -> (problems: [String], bytes: Int64) {
        let file = repository.checksumsFile(of: point, vm: chain.vmName)
        guard let data = FileManager.default.contents(atPath: file),
              let expected = try? WireJSON.decoder().decode([String: FileChecksums].self, from: data) else {
            return (["its checksums (\(file)) are missing or unreadable"], 0)
        }
        var problems: [String] = []
        var bytes: Int64 = 0
        let named = point.disks.map(\.file) + [point.nvram, point.tpmState].compactMap { $0 }
        for name in named {
            guard let checksums = expected[name] else {
                problems.append("\(name) has no checksums")
                continue
            }
            do {
                let actual = try await FileChecksums(of: "\(repository.folder(ofVM: chain.vmName))/\(point.name)/\(name)",
                                                     algorithm: checksums.algorithm)
                bytes += actual.size
                if let difference = actual.difference(from: checksums) { problems.append("\(name): \(difference)") }
            } catch {
                problems.append("\(name): \(ViridianError.wrapping(error).message)")
            }
        }
        return (problems, bytes)
    }
}
