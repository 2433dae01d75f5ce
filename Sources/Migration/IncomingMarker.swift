import Engine
import Foundation

/// What a destination writes beside a worker that waits for an uncommitted migration: the
/// files it created for it. If viridiand stops before the commit, the next start finds the
/// marker, ends the worker and deletes the files, so no half-arrived VM survives.
package struct IncomingMarker: Codable {
    package var migrationID: String
    package var vmName: String
    package var files: [String]

    package func write(_ paths: WorkerPaths) throws {
        try FileManager.default.createDirectory(atPath: paths.runtimeDirectory, withIntermediateDirectories: true)
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: paths.incomingMarker), options: .atomic)
    }

    /// Ends the worker of every marked runtime folder under `stateDirectory` and deletes what it lists,
    /// but for VMs whose move was committed (`isStored`): those are this host's, and only the marker goes.
    /// Returns the names of the VMs cleaned up.
    /// When the inventory cannot tell, the folder is left as it is for the next start.
    package static func cleanUpAbandoned(stateDirectory: String, isStored: (String) throws -> Bool) -> [String] {
        let run = "\(stateDirectory)/run"
        var cleaned: [String] = []
        for id in (try? FileManager.default.contentsOfDirectory(atPath: run)) ?? [] {
            let paths = WorkerPaths(stateDirectory: stateDirectory, vmID: id)
            guard let data = FileManager.default.contents(atPath: paths.incomingMarker),
                  let marker = try? JSONDecoder().decode(IncomingMarker.self, from: data) else { continue }
            guard let stored = try? isStored(id) else { continue }
            if stored {
                try? FileManager.default.removeItem(atPath: paths.incomingMarker)
                continue
            }
            marker.discard(paths)
            cleaned.append(marker.vmName)
        }
        return cleaned
    }

    /// Kills the worker, deletes the listed files, the VM folder and the runtime folder.
    package func discard(_ paths: WorkerPaths) {
        WorkerLauncher.killWorker(paths)
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        try? FileManager.default.removeItem(atPath: paths.vmDirectory)
        WorkerLauncher.cleanUp(paths)
    }
}
