import AgentProtocol
import FoundationEssentials
import Synchronization

/// Freezes the guest's file systems for a consistent backup and thaws them on request or,
/// if the host never asks, after the freeze's timeout.
final class VSSHandler: GuestServiceHandler {
    private struct Frozen {
        var mountPoints: [String]
        var generation: Int
    }

    private let frozen = Mutex<Frozen?>(nil)
    private let generations = Atomic(0)

    func handle(_ frame: Frame, on port: GuestPort) {
        switch try? MessageCodec.type(of: frame) {
        case FreezeRequest.type:
            guard let request = try? MessageCodec.decode(FreezeRequest.self, from: frame) else { return }
            freeze(timeout: max(1, min(request.timeoutSeconds, 600)), port: port, channel: frame.channel)
        case ThawRequest.type:
            let thawed = thawAll()
            port.send(FreezeReply(frozen: false, filesystems: thawed, error: nil), channel: frame.channel)
        default:
            return
        }
    }

    /// The host vanished: nobody will ask for the thaw, so thaw now.
    func hostDisconnected(_ port: GuestPort) {
        thawAll()
    }

    private func freeze(timeout: Int, port: GuestPort, channel: UInt32) {
        if let current = frozen.withLock({ $0 }) {
            port.send(FreezeReply(frozen: true, filesystems: current.mountPoints, error: nil), channel: channel)
            return
        }
        let mountPoints = FileSystemFreezer.freezableMountPoints()
        do {
            try FileSystemFreezer.freeze(mountPoints)
        } catch {
            port.send(FreezeReply(frozen: false, filesystems: [], error: error.description), channel: channel)
            return
        }
        let generation = generations.add(1, ordering: .relaxed).newValue
        frozen.withLock { $0 = Frozen(mountPoints: mountPoints, generation: generation) }
        AgentLog.write("froze \(mountPoints.joined(separator: ", ")) for at most \(timeout) s")
        port.send(FreezeReply(frozen: true, filesystems: mountPoints, error: nil), channel: channel)
        startThread("auto-thaw") { [self] in
            sleep(seconds: Double(timeout))
            let expired = frozen.withLock { state -> [String]? in
                guard let state, state.generation == generation else { return nil }
                return state.mountPoints
            }
            guard expired != nil else { return }
            let thawed = thawAll()
            AgentLog.write("thawed \(thawed.joined(separator: ", ")) after the \(timeout) s timeout")
            port.send(AutoThawed(filesystems: thawed))
        }
    }

    @discardableResult
    private func thawAll() -> [String] {
        guard let state = frozen.withLock({ state -> Frozen? in
            defer { state = nil }
            return state
        }) else { return [] }
        return FileSystemFreezer.thaw(state.mountPoints)
    }
}
