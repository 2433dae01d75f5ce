import APITypes

/// What the VM routes (`VMController`, `NetworkAdapterController`) ask of the host's VMs: the
/// operations a Hyper-V administrator runs on one VM, each one taking its turn through that VM's
/// actor. `VMManager` is the real one; router tests use a fake.
protocol VMService: Sendable {
    func list() async -> [VMSummary]
    func create(_ request: CreateVMRequest) async throws -> VMInfo
    func importVM(_ request: ImportVMRequest) async throws -> VMInfo
    func show(_ name: String) async throws -> VMInfo
    func set(_ name: String, _ request: SetVMRequest) async throws -> VMInfo
    func remove(_ name: String, deleteDisks: Bool, deleteAttachedDisks: Bool) async throws

    func start(_ name: String) async throws -> JobInfo
    func stop(_ name: String, _ request: StopVMRequest) async throws -> JobInfo
    func save(_ name: String) async throws -> JobInfo
    func shield(_ name: String, _ request: ShieldVMRequest) async throws -> JobInfo
    func pause(_ name: String) async throws -> VMInfo
    func resume(_ name: String) async throws -> VMInfo
    func restart(_ name: String) async throws -> VMInfo

    func addDisk(_ name: String, _ request: AddDiskRequest) async throws -> VMInfo
    func removeDisk(_ name: String, path: String?, controllerType: ControllerType?, controllerNumber: Int?,
                    location: Int?) async throws -> VMInfo
    func setDVD(_ name: String, path: String?) async throws -> VMInfo
    func removeDVDDrive(_ name: String, controllerType: ControllerType?, controllerNumber: Int?, location: Int?) async throws -> VMInfo
    func consoleLog(_ name: String, lastBytes: Int) async throws -> [UInt8]

    func networkAdapters(_ name: String) async throws -> [NetworkAdapterInfo]
    func addNetworkAdapter(_ name: String, _ request: AddNetworkAdapterRequest) async throws -> NetworkAdapterInfo
    func setNetworkAdapter(_ name: String, index: Int, _ request: SetNetworkAdapterRequest) async throws -> NetworkAdapterInfo
    func removeNetworkAdapter(_ name: String, index: Int) async throws
}

extension VMManager: VMService {}
