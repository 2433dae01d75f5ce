import APITypes
import Foundation
import Storage

/// A backup repository: a folder (local or an NFS mount) with one chain per VM.
///
///     <repository>/viridian-backups.json      marks the folder as a repository
///     <repository>/<VM>/chain.json            the chain (`BackupChain`)
///     <repository>/<VM>/<point>/disk<N>.qcow2 each disk's point; checksums.json; nvram.fd
///
/// Every change to a chain holds its lock file, writes a point's files completely, and then
/// replaces `chain.json` in one rename: a backup killed at any moment leaves the chain as it was
/// (its half-written folder is removed by the next operation on the chain).
struct BackupRepository: Sendable {
    static let markerName = "viridian-backups.json"

    let root: String

    /// The repository at `path`; with `create`, made when missing.
    /// - Throws: `invalidArgument` for a relative path; `notFound` for a folder that is no repository.
    init(path: String, create: Bool) throws {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw ViridianError(.invalidArgument, "a backup repository is an absolute path without '..', not '\(Quote.prefix(path))'")
        }
        root = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let marker = "\(root)/\(Self.markerName)"
        if FileManager.default.fileExists(atPath: marker) { return }
        guard create else { throw ViridianError(.notFound, "\(root) is not a Viridian backup repository (it has no \(Self.markerName))") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ViridianError(.invalidArgument, "\(root) is not a folder") }
            let contents: [String]
            do {
                contents = try FileManager.default.contentsOfDirectory(atPath: root)
            } catch {
                throw ViridianError(.invalidArgument, "cannot read the folder \(root): \(error.localizedDescription)")
            }
            guard contents.isEmpty else {
                throw ViridianError(.invalidArgument, "\(root) holds other files and is not a Viridian backup repository; give an empty or new folder")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data(#"{"format": 1}"#.utf8).write(to: URL(fileURLWithPath: marker))
        } catch {
            throw ViridianError(.invalidArgument, "cannot make the backup repository \(root): \(error.localizedDescription)")
        }
    }

    func folder(ofVM name: String) -> String { "\(root)/\(name)" }

    func chainFile(ofVM name: String) -> String { "\(folder(ofVM: name))/chain.json" }

    /// The chain of the VM named `name`, or nil when the repository has none.
    func chain(ofVM name: String) throws -> BackupChain? {
        let file = chainFile(ofVM: name)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file), data.count <= 64 << 20 else {
            throw ViridianError(.invalidState, "cannot read \(file)")
        }
        let chain: BackupChain
        do {
            chain = try WireJSON.decoder().decode(BackupChain.self, from: data)
        } catch {
            throw ViridianError(.invalidState, "\(file) cannot be read as a backup chain", cause: error)
        }
        guard chain.format == BackupChain.currentFormat else {
            throw ViridianError(.invalidState, "\(file) is chain format \(chain.format); this Viridian reads format \(BackupChain.currentFormat)")
        }
        return chain
    }

    /// Every chain of the repository, by VM name.
    func chains() throws -> [BackupChain] {
        let names = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        return try names.compactMap { name in
            FileManager.default.fileExists(atPath: chainFile(ofVM: name)) ? try chain(ofVM: name) : nil
        }
    }

    /// Replaces the chain file in one rename.
    func store(_ chain: BackupChain) throws {
        try DiskPath.replaceAtomically(chainFile(ofVM: chain.vmName), with: try WireJSON.encoder().encode(chain))
    }

    /// Runs `body` holding the VM's chain lock (a file lock, so two daemons sharing an NFS
    /// repository do not write one chain at once), after removing what an interrupted operation left.
    func withChainLock<T: Sendable>(vm name: String, _ body: () async throws -> T) async throws -> T {
        let folder = folder(ofVM: name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let descriptor = open("\(folder)/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ViridianError(.internalError, "cannot open \(folder)/.lock: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // A lock held for a moment only (a process being spawned holds a copy of the file until it
        // runs its program) is waited for; an operation that holds it is reported.
        let deadline = ContinuousClock.now + .seconds(2)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK, ContinuousClock.now < deadline else {
                throw ViridianError(.busy, "another backup operation on VM '\(name)' in \(root) is running; try again when it ends")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        if let chain = try chain(ofVM: name) { removeLeftovers(chain) }
        return try await body()
    }

    /// Point folders the chain does not name: what a backup killed before it stored the chain wrote.
    private func removeLeftovers(_ chain: BackupChain) {
        let folder = folder(ofVM: chain.vmName)
        let named = Set(chain.points.map(\.name))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        where !entry.hasPrefix(".") && entry != "chain.json" && !named.contains(entry) {
            try? FileManager.default.removeItem(atPath: "\(folder)/\(entry)")
        }
    }

    /// The file of `disk` in the point `point`.
    func path(of disk: BackupDisk, in point: BackupPoint, vm: String) -> String {
        "\(folder(ofVM: vm))/\(point.name)/\(disk.file)"
    }

    func checksumsFile(of point: BackupPoint, vm: String) -> String {
        "\(folder(ofVM: vm))/\(point.name)/checksums.json"
    }
}
