import AgentProtocol
import APITypes
import AsyncAlgorithms
import Foundation
import HostServices
import IntegrationServices

extension IntegrationUpdateService {
    /// Upgrades one VM: the guest keeps the previous binary and rolls back by itself if the new one
    /// does not negotiate. File copy is enabled for the update when it is off, and turned off again.
    func updateOne(_ name: String, agentFile: String, force: Bool) async -> IntegrationUpdateResult {
        var from: String?
        do {
            let hub = try await vms.integrationHub(name)
            from = hub.negotiatedRelease(.heartbeat)
            guard let previous = from else {
                return result(name, .failed, from: nil, to: nil, "its agent does not answer (see: viridian vm ic \(name))")
            }
            if !force, let release = Release(previous), let host = Release(ViridianVersion.current), release >= host {
                return result(name, .upToDate, from: previous, to: previous, "already runs \(previous)")
            }
            let copyWasEnabled = try await vms.integrationServices(name).first { $0.name == "fcopy" }?.enabled ?? false
            if copyWasEnabled {
                return await install(name, hub: hub, previous: previous, agentFile: agentFile, force: force)
            }
            // File copy is off: turn it on for the update, and back off before reporting.
            var outcome: IntegrationUpdateResult
            do {
                _ = try await vms.setIntegrationService(name, .fcopy, enabled: true)
                try await waitUntil(.seconds(20)) { hub.negotiatedRelease(.fcopy) != nil }
                outcome = await install(name, hub: hub, previous: previous, agentFile: agentFile, force: force)
            } catch {
                outcome = result(name, .failed, from: previous, to: nil, "\(ViridianError.wrapping(error).message)")
            }
            do {
                _ = try await vms.setIntegrationService(name, .fcopy, enabled: false)
            } catch {
                // The update's own outcome stands; the user learns that file copy stayed on.
                let reason = "file copy, turned on for the update, could not be turned off again: \(ViridianError.wrapping(error).message) "
                    + "(viridian vm ic disable \(name) fcopy)"
                outcome.message += "; \(reason)"
                events.record(.warning, .integration, vm: name, "VM '\(name)': \(reason)")
            }
            return outcome
        } catch {
            return result(name, .failed, from: from, to: nil, "\(ViridianError.wrapping(error).message)")
        }
    }

    /// Copies the agent in and lets the installed agent install it; then waits for the heartbeat
    /// to come back and reports which release answers.
    private func install(_ name: String, hub: IntegrationHub, previous: String, agentFile: String,
                         force: Bool) async -> IntegrationUpdateResult {
        do {
            _ = try await hub.putFile(source: agentFile, destination: Self.guestStagingPath, createFullPath: true,
                                      overwrite: true) { _, _ in }
            var arguments = ["viridian-guest", "install", "--source", Self.guestStagingPath]
            if force { arguments.append("--force") }
            let generation = hub.negotiationCount(.heartbeat)
            let transcript = Transcript()
            let input = AsyncChannel<SessionInput>()
            input.finish()
            let code = try await hub.exec(SessionCommand(arguments: arguments, terminal: false), input: input) { _, bytes in
                await transcript.append(bytes)
            }
            let output = await transcript.text
            guard code == 0 else {
                return result(name, .failed, from: previous, to: nil, "the installer failed (exit \(code)): \(output)")
            }
            if output.contains("up to date") {
                return result(name, .upToDate, from: previous, to: previous, "already runs \(previous)")
            }
            let offered = output.split(separator: "\n").first { $0.hasPrefix("offered: ") }.map { String($0.dropFirst(9)) }
            // The old agent goes away, then a new one (or, after a rollback, the old one) negotiates.
            try await waitUntil(Self.comebackTimeout) {
                hub.negotiationCount(.heartbeat) > generation && hub.negotiatedRelease(.heartbeat) != nil
            }
            let now = hub.negotiatedRelease(.heartbeat)
            if let offered, now == offered || (now != previous && now != nil) {
                events.record(.information, .integration, vm: name, "upgraded the integration services of VM '\(name)' from \(previous) to \(now ?? offered)")
                return result(name, .upgraded, from: previous, to: now, "now runs \(now ?? offered)")
            }
            // The same release may come back after a forced reinstall: tell it apart by the guest's log only.
            if force, now == previous, offered == previous {
                return result(name, .upgraded, from: previous, to: now, "reinstalled \(previous)")
            }
            events.record(.warning, .integration, vm: name,
                          "the new agent of VM '\(name)' did not come up; the guest rolled back to \(now ?? previous)")
            return result(name, .rolledBack, from: previous, to: now, "the new agent did not come up; rolled back to \(now ?? previous)")
        } catch {
            return result(name, .failed, from: previous, to: nil, "\(ViridianError.wrapping(error).message)")
        }
    }

    private func result(_ vm: String, _ outcome: IntegrationUpdateOutcome, from: String?, to: String?, _ message: String) -> IntegrationUpdateResult {
        IntegrationUpdateResult(vm: vm, result: outcome, from: from, to: to, message: message)
    }

    private func waitUntil(_ timeout: Duration, _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                throw ViridianError(.timeout, "the guest's agent did not respond within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Collects a guest program's output, bounded to 64 KiB.
actor Transcript {
    private var bytes: [UInt8] = []

    func append(_ more: [UInt8]) {
        bytes += more.prefix(max(0, 65_536 - bytes.count))
    }

    var text: String { String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
}
