import APITypes
import Foundation
import NIOHTTP1

/// Typed calls, one per API operation.
extension ViridianClient {
    // MARK: VMs

    public func listVMs() async throws -> [VMSummary] { try await call(.GET, "/v1/vms") }
    public func vm(_ name: String) async throws -> VMInfo { try await call(.GET, "/v1/vms/\(escape(name))") }
    public func createVM(_ request: CreateVMRequest) async throws -> VMInfo { try await call(.POST, "/v1/vms", body: request) }
    public func setVM(_ name: String, _ request: SetVMRequest) async throws -> VMInfo {
        try await call(.PATCH, "/v1/vms/\(escape(name))", body: request)
    }
    public func removeVM(_ name: String, deleteDisks: Bool, deleteAttachedDisks: Bool = false) async throws {
        _ = try await send(.DELETE, "/v1/vms/\(escape(name))", query: ["deleteDisks": deleteDisks ? "true" : nil,
                                                                       "deleteAttachedDisks": deleteAttachedDisks ? "true" : nil])
    }
    public func startVM(_ name: String) async throws -> JobInfo { try await jobCall("/v1/vms/\(escape(name))/start") }
    public func stopVM(_ name: String, _ request: StopVMRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(name))/stop", body: request, as: JobReference.self).job
    }
    public func saveVM(_ name: String) async throws -> JobInfo { try await jobCall("/v1/vms/\(escape(name))/save") }
    public func shieldVM(_ name: String, _ request: ShieldVMRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vms/\(escape(name))/shield", body: request, as: JobReference.self).job
    }
    public func pauseVM(_ name: String) async throws -> VMInfo { try await call(.POST, "/v1/vms/\(escape(name))/pause") }
    public func resumeVM(_ name: String) async throws -> VMInfo { try await call(.POST, "/v1/vms/\(escape(name))/resume") }
    public func restartVM(_ name: String) async throws -> VMInfo { try await call(.POST, "/v1/vms/\(escape(name))/restart") }
    public func addDisk(_ name: String, _ request: AddDiskRequest) async throws -> VMInfo {
        try await call(.POST, "/v1/vms/\(escape(name))/disks", body: request)
    }
    public func removeDisk(_ name: String, path: String?, controllerType: ControllerType?, controllerNumber: Int?,
                           location: Int?) async throws -> VMInfo {
        try await call(.DELETE, "/v1/vms/\(escape(name))/disks", query: [
            "path": path, "controllerType": controllerType?.rawValue,
            "controllerNumber": controllerNumber.map(String.init), "location": location.map(String.init),
        ])
    }
    public func setDVD(_ name: String, path: String?) async throws -> VMInfo {
        try await call(.PUT, "/v1/vms/\(escape(name))/dvd", body: SetDVDRequest(path: path))
    }
    /// Removes the VM's DVD drive at a location, or its first one.
    public func removeDVDDrive(_ name: String, controllerType: ControllerType?, controllerNumber: Int?, location: Int?) async throws -> VMInfo {
        try await call(.DELETE, "/v1/vms/\(escape(name))/dvd", query: [
            "controllerType": controllerType?.rawValue,
            "controllerNumber": controllerNumber.map(String.init), "location": location.map(String.init),
        ])
    }
    /// The VM's console log, at most the last `bytes`.
    public func consoleLog(_ name: String, bytes: Int? = nil) async throws -> String {
        let reply = try await send(.GET, "/v1/vms/\(escape(name))/console/log", query: ["bytes": bytes.map(String.init)])
        return String(decoding: reply.body.readableBytesView, as: UTF8.self)
    }

    // MARK: Jobs, events, host, images

    public func jobs() async throws -> [JobInfo] { try await call(.GET, "/v1/jobs") }
    public func job(_ id: String) async throws -> JobInfo { try await call(.GET, "/v1/jobs/\(escape(id))") }
    public func cancelJob(_ id: String) async throws -> JobInfo { try await call(.POST, "/v1/jobs/\(escape(id))/cancel") }

    /// Waits until a job finishes, handing each change to `onProgress`; throws the job's error if it
    /// failed. Follows the event stream (subscribed before the job's state is first read, so no
    /// change is missed); polls every `pollInterval` when the stream is not there or ends early.
    @discardableResult
    public func waitForJob(_ id: String, pollInterval: Duration = .milliseconds(100),
                           onProgress: (JobInfo) -> Void = { _ in }) async throws -> JobInfo {
        if let stream = try? await eventStream() {
            var info = try await job(id)
            onProgress(info)
            var items = stream.makeAsyncIterator()
            while !info.state.isFinished, let item = try? await items.next() {
                guard let update = item.job, update.id == info.id else { continue }
                info = update
                onProgress(info)
            }
            if info.state.isFinished {
                if let error = info.error { throw ViridianError(.init(wireName: error.code), error.message) }
                return info
            }
        }
        while true {
            let info = try await job(id)
            onProgress(info)
            if info.state.isFinished {
                if let error = info.error { throw ViridianError(.init(wireName: error.code), error.message) }
                return info
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    public func events(vm: String? = nil, level: EventLevel? = nil, since: String? = nil, limit: Int? = nil) async throws -> [EventRecord] {
        try await call(.GET, "/v1/events", query: ["vm": vm, "level": level?.rawValue, "since": since,
                                                   "limit": limit.map(String.init)])
    }

    public func host() async throws -> HostInfo { try await call(.GET, "/v1/host") }
    /// Applies every running VM's automatic stop action, as a host shutdown does.
    public func shutDownHost() async throws -> JobInfo {
        try await call(.POST, "/v1/host/shutdown", as: JobReference.self).job
    }
    public func images() async throws -> [ImageInfo] { try await call(.GET, "/v1/images") }
    /// Builds the test guest; with `qemuGuestAgent` the variant that runs Debian's qemu-guest-agent.
    public func buildTestGuest(qemuGuestAgent: Bool = false) async throws -> JobInfo {
        try await call(.POST, "/v1/images/test-guest", query: ["agent": qemuGuestAgent ? "qemu-guest-agent" : nil],
                       as: JobReference.self).job
    }
    public func openAPIDocument() async throws -> String {
        let reply = try await send(.GET, "/openapi.yaml")
        return String(decoding: reply.body.readableBytesView, as: UTF8.self)
    }

    // MARK: Disks

    /// What the disk at `path` is; `format` declares a raw disk Viridian does not know yet.
    public func vhd(_ path: String, format: VHDFormat? = nil) async throws -> VHDInfo {
        try await call(.GET, "/v1/vhds", query: ["path": path, "format": format?.rawValue])
    }
    public func newVHD(_ request: NewVHDRequest) async throws -> VHDInfo { try await call(.POST, "/v1/vhds", body: request) }
    public func resizeVHD(_ request: ResizeVHDRequest) async throws -> VHDInfo {
        try await call(.POST, "/v1/vhds/resize", body: request)
    }
    public func repairVHD(_ request: RepairVHDRequest) async throws -> VHDRepairReport {
        try await call(.POST, "/v1/vhds/repair", body: request)
    }
    public func convertVHD(_ request: ConvertVHDRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vhds/convert", body: request, as: JobReference.self).job
    }
    public func mergeVHD(_ request: MergeVHDRequest) async throws -> JobInfo {
        try await call(.POST, "/v1/vhds/merge", body: request, as: JobReference.self).job
    }

    func jobCall(_ path: String) async throws -> JobInfo {
        try await call(.POST, path, as: JobReference.self).job
    }

    func escape(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }
}
