import AgentProtocol
import FoundationEssentials

/// Finds the integration service ports the host gave this VM.
struct PortScanner {
    let paths: GuestPaths

    /// The device path of each service port present now (`/dev/vport0p3`).
    func scan() -> [IntegrationService: String] {
        var ports: [IntegrationService: String] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: paths.portClass)) ?? []
        for entry in entries {
            guard let name = try? String(contentsOfFile: "\(paths.portClass)/\(entry)/name", encoding: .utf8),
                  let service = IntegrationService(portName: GuestText.trimmed(name))
            else { continue }
            ports[service] = "\(paths.devices)/\(entry)"
        }
        return ports
    }
}
