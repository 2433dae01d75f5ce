import APITypes
import Foundation
import HostTools

/// The QEMU system emulator this host runs VMs with.
public struct QEMUBinary: Sendable {
    public let path: String
    /// `QEMU emulator version 10.0.2 (Debian …)`, first line of `--version`.
    public let version: String
    /// The machine types it offers.
    public let machineTypes: QEMUMachineTypes

    public init(path: String, version: String, machineTypes: QEMUMachineTypes) {
        self.path = path
        self.version = version
        self.machineTypes = machineTypes
    }

    /// Finds `qemu-system-x86_64` (or the binary `$VIRIDIAN_QEMU` names) and reads its version and machine types.
    /// - Throws: `missingDependency` naming the `qemu-system-x86` package.
    public static func locate() async throws -> QEMUBinary {
        let name = ProcessInfo.processInfo.environment["VIRIDIAN_QEMU"] ?? "qemu-system-x86_64"
        let path = try HostExecutable.locate(name, package: "qemu-system-x86")
        let output = try await HostCommand.check(path, ["--version"], purpose: "reading the QEMU version")
        let version = output.standardOutput.split(separator: "\n").first.map(String.init) ?? "unknown"
        let machines = try await HostCommand.check(path, ["-machine", "help"], purpose: "listing QEMU's machine types")
        return QEMUBinary(path: path, version: version, machineTypes: QEMUMachineTypes(machineHelp: machines.standardOutput))
    }
}
