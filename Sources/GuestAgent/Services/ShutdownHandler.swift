import AgentProtocol
import FoundationEssentials

/// Shuts the guest down or restarts it when the host asks, through the init system.
struct ShutdownHandler: GuestServiceHandler {
    func handle(_ frame: Frame, on port: GuestPort) {
        guard let request = try? MessageCodec.decode(ShutdownRequest.self, from: frame) else { return }
        let command = request.action == .restart ? "reboot" : "poweroff"
        port.send(ShutdownReply(accepted: true, message: "\(command): \(request.reason)"), channel: frame.channel)
        AgentLog.write("host requested \(request.action.rawValue): \(request.reason)")
        startThread("shutdown") {
            // Let the reply leave before init starts killing processes.
            sleep(seconds: 0.2)
            _ = try? ProcessLauncher.spawnDetached([command])
        }
    }
}
