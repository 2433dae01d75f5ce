import APITypes
import Foundation
import HostServices
import IntegrationServices

/// `viridian vm copy-file`: copies between a host path (the administrator's) and a guest path,
/// as a job with percent and byte counts. Guest paths never name a host file.
struct FileCopyService: Sendable {
    let vms: VMManager
    let jobs: JobManager
    let events: EventLog

    func start(vm name: String, _ request: CopyFileRequest) async throws -> JobInfo {
        let hub = try await vms.guestAccessHub(name, "copying files into or out of the guest")
        try hub.requireAvailable(.fcopy)
        let vmName = try await vms.show(name).name
        let hostPath = request.fromGuest ? request.destination : request.source
        guard hostPath.hasPrefix("/"), !hostPath.contains("\0") else {
            throw ViridianError(.invalidArgument, "the host path must be absolute: \(hostPath)")
        }
        let guestPath = request.fromGuest ? request.source : request.destination
        guard guestPath.hasPrefix("/"), !guestPath.contains("\0"), guestPath.utf8.count <= 4096 else {
            throw ViridianError(.invalidArgument, "the guest path must be absolute: \(guestPath.prefix(200))")
        }
        if request.fromGuest {
            try prepareHostDestination(request)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: request.source, isDirectory: &isDirectory), !isDirectory.boolValue,
                  FileManager.default.isReadableFile(atPath: request.source) else {
                throw ViridianError(.notFound, "\(request.source) is not a readable file on the host")
            }
        }
        let direction = request.fromGuest ? "from" : "to"
        return jobs.start(kind: "vm.copy-file", vm: vmName,
                          description: "Copying \(request.source) \(direction) VM '\(vmName)'") { progress in
            let report: CopyProgress = { done, total in
                let percent = total > 0 ? Int(done * 100 / total) : 0
                progress.report(percent, "\(ByteSize.format(UInt64(max(0, done)))) of \(ByteSize.format(UInt64(max(0, total))))")
            }
            let start = ContinuousClock.now
            let bytes: Int64
            if request.fromGuest {
                bytes = try await hub.getFile(source: request.source, destination: request.destination,
                                              overwrite: request.overwrite, progress: report)
            } else {
                bytes = try await hub.putFile(source: request.source, destination: request.destination,
                                              createFullPath: request.createFullPath, overwrite: request.overwrite,
                                              progress: report)
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let rate = seconds > 0 ? " (\(ByteSize.format(UInt64(Double(bytes) / seconds)))/s)" : ""
            events.record(.information, .integration, vm: vmName,
                          "copied \(request.source) \(direction) VM '\(vmName)' (\(bytes) bytes)")
            return "copied \(ByteSize.format(UInt64(max(0, bytes)))) in \(String(format: "%.2f", seconds)) s\(rate)"
        }
    }

    private func prepareHostDestination(_ request: CopyFileRequest) throws {
        let destination = request.destination
        let directory = (destination as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw ViridianError(.invalidArgument, "\(destination) is a directory; name the file") }
            if !request.overwrite { throw ViridianError(.alreadyExists, "\(destination) exists on the host (use --overwrite)") }
        }
        if !FileManager.default.fileExists(atPath: directory) {
            guard request.createFullPath else {
                throw ViridianError(.notFound, "\(directory) does not exist on the host (use --create-full-path)")
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }
}
