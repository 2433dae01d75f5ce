import APITypes
import IntegrationServices

/// The stop chain's steps on a real worker: the guest's shutdown service, QEMU's power button,
/// and the worker's monitor closing.
struct WorkerShutdown: StoppableGuest {
    let worker: Worker
    /// Why the guest is asked to shut down (shown in the guest's log).
    let reason: String

    func askShutdownService() async throws -> String {
        try await worker.hub.requestShutdown(.shutdown, reason: reason)
    }

    func pressPowerButton() async throws {
        try await worker.client.systemPowerdown()
    }

    func waitForExit(_ timeout: Duration) async -> Bool {
        guard timeout > .zero else { return false }
        return await VMManager.waitForExit(worker.client, timeout: timeout)
    }
}
