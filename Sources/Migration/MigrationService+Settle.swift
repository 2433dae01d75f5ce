import APITypes
import Foundation
import HostServices
import Inventory
import Peers

/// Moves this host did not finish — viridiand stopped mid-move, or the destination's answer to
/// the commit was lost — are settled with the destination before anything touches the VM:
/// - **departing** (the commit was never sent): the destination cannot have taken the VM, as it
///   runs a VM only on this host's commit; it is told to let go, and the VM runs on here as before.
/// - **committing**: only the destination knows. It is asked until it answers: "committed" ends
///   the VM here, "did not happen" resumes it here. Meanwhile the VM stays paused and cannot be
///   started or resumed (`requireOwned`), so it never runs on both hosts.
extension MigrationService {
    /// How long an unsettled handover waits before it asks the destination again.
    package static let settleRetry = Duration.seconds(5)

    /// At start-up, after the workers were re-attached: settles every unfinished departure.
    package func settleUnfinishedDepartures() async {
        let unfinished: [(record: OwnershipRecord, vm: DepartingVM)]
        do {
            unfinished = try await vms.unfinishedDepartures()
        } catch {
            events.record(.error, .migration, vm: nil, "cannot read the unfinished moves: \(ViridianError.wrapping(error).message)")
            return
        }
        for (record, departing) in unfinished {
            await settleInBackground(record, departing)
        }
    }

    /// Holds the VM and settles its handover in the background.
    package func settleInBackground(_ record: OwnershipRecord, _ departing: DepartingVM) async {
        await vms.holdForSettling(departing.record.id, jobID: nil)
        Task { await self.settle(record, departing) }
    }

    private func settle(_ record: OwnershipRecord, _ departing: DepartingVM) async {
        let name = departing.record.name
        let peerName = record.peer ?? "?"
        guard let peer = try? peers.peer(peerName) else {
            if record.state == .departing {
                await vms.departureFailed(departing)
                events.record(.warning, .migration, vm: name, "the move of VM '\(name)' to '\(peerName)' was interrupted; '\(peerName)' is no longer a peer, and the VM stays on this host")
            } else {
                await vms.endSettling(departing.record.id)
                events.record(.error, .migration, vm: name, "the handover of VM '\(name)' to '\(peerName)' has no known outcome and '\(peerName)' is no longer a peer: "
                              + "the VM stays paused here; if '\(peerName)' does not run it, add the peer again so that viridiand can ask")
            }
            return
        }
        let client: PeerClient
        do { client = try peers.client(peer) } catch {
            await vms.endSettling(departing.record.id)
            events.record(.error, .migration, vm: name, "cannot settle the handover of VM '\(name)' to '\(peerName)': \(ViridianError.wrapping(error).message); it stays paused and is settled when viridiand restarts")
            return
        }
        if record.state == .departing {
            if let moveID = record.moveID {
                do {
                    try await client.discard(moveID)
                } catch {
                    // Gone already, or unreachable: its lease runs out and it discards the move by itself.
                }
            }
            try? await departing.client?.migrateCancel()
            await vms.departureFailed(departing)
            events.record(.warning, .migration, vm: name,
                          "the move of VM '\(name)' to '\(peerName)' was interrupted before its commit; the VM stays on this host")
            return
        }
        guard let moveID = record.moveID else {
            await vms.departureFailed(departing)
            return
        }
        let outcome = await Handover(peer: client, retry: Self.settleRetry).settle(moveID) { error in
            events.record(.warning, .migration, vm: name,
                          "cannot learn from '\(peerName)' whether it took VM '\(name)' over (\(error.message)); "
                          + "the VM stays paused here and viridiand keeps asking")
        }
        switch outcome {
        case .tookOver:
            await vms.departed(departing, to: peerName, deleting: [])
            events.record(.information, .migration, vm: name,
                          "settled the interrupted handover of VM '\(name)': '\(peerName)' had taken it over; its worker here was ended")
        case .stayedHere:
            await vms.departureFailed(departing)
            events.record(.warning, .migration, vm: name,
                          "settled the interrupted handover of VM '\(name)': '\(peerName)' did not take it over; the VM stays on this host")
        case nil:
            break
        }
    }
}
