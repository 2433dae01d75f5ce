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
        let client = PeerClient(peer: peer, identity: peers.identity)
        if record.state == .departing {
            if let moveID = record.moveID {
                do {
                    let _: IncomingStatus = try await client.call(.DELETE, "/peer/v1/incoming/\(moveID)", timeout: .seconds(10))
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
        var warned = false
        while !Task.isCancelled {
            do {
                let status: IncomingStatus = try await client.call(.GET, "/peer/v1/incoming/\(moveID)", timeout: .seconds(10))
                switch status.state {
                case .committed:
                    await vms.departed(departing, to: peerName, deleting: [])
                    events.record(.information, .migration, vm: name,
                                  "settled the interrupted handover of VM '\(name)': '\(peerName)' had taken it over; its worker here was ended")
                    return
                case .aborted:
                    await vms.departureFailed(departing)
                    events.record(.warning, .migration, vm: name,
                                  "settled the interrupted handover of VM '\(name)': '\(peerName)' did not take it over; the VM stays on this host")
                    return
                case .pending:
                    break
                }
            } catch {
                if !warned {
                    warned = true
                    events.record(.warning, .migration, vm: name,
                                  "cannot learn from '\(peerName)' whether it took VM '\(name)' over (\(ViridianError.wrapping(error).message)); "
                                  + "the VM stays paused here and viridiand keeps asking")
                }
            }
            try? await Task.sleep(for: Self.settleRetry)
        }
    }
}
