import AgentProtocol
import APITypes
import Engine
import QMP

/// Adds or removes an integration service's virtio-serial port on a running worker, so enabling
/// or disabling a service takes effect in the guest at once (its agent sees the port come or go).
struct IntegrationPortPlug {
    let client: QMPClient
    let paths: WorkerPaths

    func set(_ service: IntegrationService, plugged: Bool) async throws {
        let names = IntegrationPortNames(service: service)
        do {
            if plugged {
                try await client.execute("chardev-add", arguments: [
                    "id": .string(names.chardev),
                    "backend": .object(["type": .string("socket"), "data": .object([
                        "addr": .object(["type": .string("unix"),
                                         "data": .object(["path": .string(paths.integrationSocket(service))])]),
                        "server": .bool(true), "wait": .bool(false),
                    ])]),
                ])
                try await client.execute("device_add", arguments: [
                    "driver": .string("virtserialport"), "bus": .string("\(IntegrationPortNames.bus).0"),
                    "nr": .int(Int64(names.portNumber)),
                    "chardev": .string(names.chardev), "name": .string(service.portName), "id": .string(names.device),
                ])
            } else {
                // virtio-serial ports unplug at once (no guest handshake); QEMU confirms.
                guard try await client.deleteDevice(names.device, timeout: .seconds(5)) else {
                    throw ViridianError(.timeout, "QEMU did not remove the port \(names.device) within 5 s")
                }
                try await client.execute("chardev-remove", arguments: ["id": .string(names.chardev)])
            }
        } catch let error as QMPError {
            throw ViridianError(.engineFailure, "cannot \(plugged ? "add" : "remove") the \(service.rawValue) port: \(error)")
        }
    }
}
