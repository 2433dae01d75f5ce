import APITypes
@testable import Daemon
import Foundation

/// A fake of the host's VMs for router tests: it records each call as a line (`stop web turnOff=true`)
/// and answers with fixed values, or with the error set for that operation.
actor RecordingVMService: VMService {
    private(set) var calls: [String] = []
    private var failures: [String: any Error] = [:]

    /// The next calls of `operation` (`start`, `removeDisk`, …) fail with `error`.
    func fail(_ operation: String, with error: any Error) {
        failures[operation] = error
    }

    private func record(_ operation: String, _ details: String) throws {
        calls.append(details.isEmpty ? operation : "\(operation) \(details)")
        if let error = failures[operation] { throw error }
    }

    static let configuration = VMConfiguration(generation: .two, processorCount: 2, memoryMiB: 512, secureBoot: false, kernelBoot: nil,
                                               drives: [], networkAdapters: [], bootOrder: [.hardDisk])

    private func info(_ name: String, _ state: VMState = .off) -> VMInfo {
        VMInfo(id: "00000000-0000-0000-0000-000000000001", name: name, state: state, configuration: Self.configuration, notes: "",
               image: nil, uptimeSeconds: nil, workerPID: nil, createdAt: Date(timeIntervalSince1970: 0))
    }

    private func job(_ kind: String, _ name: String) -> JobInfo {
        JobInfo(id: "1a2b3c4d-0000-0000-0000-000000000000", kind: kind, vm: name, description: "\(kind) \(name)", state: .running,
                percentComplete: 0, statusMessage: nil, error: nil, createdAt: Date(timeIntervalSince1970: 0), finishedAt: nil)
    }

    private func adapter(_ index: Int) -> NetworkAdapterInfo {
        NetworkAdapterInfo(index: index, adapter: NetworkAdapter(kind: .synthetic, macAddress: "00:15:5d:00:00:01"), tap: nil,
                           mtu: 1500, queues: 1, hardwareFeatures: [])
    }

    func list() -> [VMSummary] {
        calls.append("list")
        return [VMSummary(id: "1", name: "web", state: .running, generation: 2, processorCount: 2, memoryMiB: 512, uptimeSeconds: 3)]
    }

    func create(_ request: CreateVMRequest) throws -> VMInfo {
        try record("create", "\(request.name) memoryMiB=\(request.memoryMiB.map(String.init) ?? "-")")
        return info(request.name)
    }

    func importVM(_ request: ImportVMRequest) throws -> VMInfo {
        try record("importVM", "\(request.path) name=\(request.name ?? "-")")
        return info(request.name ?? "imported")
    }

    func show(_ name: String) throws -> VMInfo { try record("show", name); return info(name) }

    func set(_ name: String, _ request: SetVMRequest) throws -> VMInfo {
        try record("set", "\(name) notes=\(request.notes ?? "-")")
        return info(name)
    }

    func remove(_ name: String, deleteDisks: Bool, deleteAttachedDisks: Bool) throws {
        try record("remove", "\(name) deleteDisks=\(deleteDisks) deleteAttachedDisks=\(deleteAttachedDisks)")
    }

    func start(_ name: String) throws -> JobInfo { try record("start", name); return job("start", name) }

    func stop(_ name: String, _ request: StopVMRequest) throws -> JobInfo {
        try record("stop", "\(name) turnOff=\(request.turnOff) timeout=\(request.timeoutSeconds.map(String.init) ?? "-")")
        return job("stop", name)
    }

    func save(_ name: String) throws -> JobInfo { try record("save", name); return job("save", name) }
    func shield(_ name: String, _ request: ShieldVMRequest) throws -> JobInfo { try record("shield", name); return job("shield", name) }
    func pause(_ name: String) throws -> VMInfo { try record("pause", name); return info(name, .paused) }
    func resume(_ name: String) throws -> VMInfo { try record("resume", name); return info(name, .running) }
    func restart(_ name: String) throws -> VMInfo { try record("restart", name); return info(name, .running) }

    func addDisk(_ name: String, _ request: AddDiskRequest) throws -> VMInfo {
        try record("addDisk", "\(name) \(request.path)")
        return info(name)
    }

    func removeDisk(_ name: String, path: String?, controllerType: ControllerType?, controllerNumber: Int?, location: Int?) throws -> VMInfo {
        try record("removeDisk", "\(name) path=\(path ?? "-") controller=\(controllerType?.rawValue ?? "-")"
                       + " number=\(controllerNumber.map(String.init) ?? "-") location=\(location.map(String.init) ?? "-")")
        return info(name)
    }

    func setDVD(_ name: String, path: String?) throws -> VMInfo {
        try record("setDVD", "\(name) \(path ?? "eject")")
        return info(name)
    }

    func removeDVDDrive(_ name: String, controllerType: ControllerType?, controllerNumber: Int?, location: Int?) throws -> VMInfo {
        try record("removeDVDDrive", "\(name) controller=\(controllerType?.rawValue ?? "-")"
                       + " number=\(controllerNumber.map(String.init) ?? "-") location=\(location.map(String.init) ?? "-")")
        return info(name)
    }

    func consoleLog(_ name: String, lastBytes: Int) throws -> [UInt8] {
        try record("consoleLog", "\(name) \(lastBytes)")
        return Array("login: ".utf8)
    }

    func networkAdapters(_ name: String) throws -> [NetworkAdapterInfo] { try record("networkAdapters", name); return [adapter(0)] }

    func addNetworkAdapter(_ name: String, _ request: AddNetworkAdapterRequest) throws -> NetworkAdapterInfo {
        try record("addNetworkAdapter", "\(name) \(request.switchName)")
        return adapter(1)
    }

    func setNetworkAdapter(_ name: String, index: Int, _ request: SetNetworkAdapterRequest) throws -> NetworkAdapterInfo {
        try record("setNetworkAdapter", "\(name) \(index) mtu=\(request.mtu.map(String.init) ?? "-")")
        return adapter(index)
    }

    func removeNetworkAdapter(_ name: String, index: Int) throws {
        try record("removeNetworkAdapter", "\(name) \(index)")
    }
}
