/// Removing devices from a running worker.
extension QMPClient {
    /// Removes the device `id` (`device_del`) and waits for QEMU's `DEVICE_DELETED`. A SCSI disk or a
    /// virtio-serial port goes at once; a PCI device (a network adapter) goes once the guest lets go
    /// of it. Returns false when that did not happen within `timeout`: the removal stays pending in
    /// QEMU and the device keeps working until the guest lets go.
    public func deleteDevice(_ id: String, timeout: Duration) async throws -> Bool {
        let events = events()
        try await execute("device_del", arguments: ["id": .string(id)])
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in events where event.name == "DEVICE_DELETED" && event.data["device"]?.stringValue == id {
                    return true
                }
                throw QMPError.disconnected
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
    }
}
