@testable import Daemon
import Foundation
import Logging

/// A real `ViridianHost` in a folder of its own under the temporary directory, for tests that drive the
/// daemon's router in-process. The host is shut down and the folder removed when `body` returns or throws.
func withTemporaryHost<Result>(_ label: String, _ body: (ViridianHost) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("viridian-\(label)-\(UUID().uuidString.prefix(8))").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let host = try await ViridianHost.open(DaemonConfiguration(stateDirectory: directory, socketPath: "\(directory)/viridiand.sock",
                                                               cacheDirectory: "\(directory)/cache", accelerator: .tcg,
                                                               hostName: label),
                                           logger: Logger(label: label))
    do {
        let result = try await body(host)
        await host.shutDown()
        return result
    } catch {
        await host.shutDown()
        throw error
    }
}
