import AgentProtocol
import APITypes

extension IntegrationHub {
    func receiveGuestItems(_ items: GuestItems) {
        var rejected: [String] = []
        func bounded(_ pool: [String: String], allowedKeys: Set<String>?) -> [String: String] {
            var kept: [String: String] = [:]
            for (key, value) in pool.sorted(by: { $0.key < $1.key }) {
                if let violation = KVPLimits.violation(key: key, value: value) {
                    rejected.append(violation)
                } else if let allowedKeys, !allowedKeys.contains(key) {
                    rejected.append("'\(key.prefix(64))' is not an intrinsic item")
                } else if kept.count >= KVPLimits.maximumItems {
                    rejected.append("more than \(KVPLimits.maximumItems) items")
                    break
                } else {
                    kept[key] = value
                }
            }
            return kept
        }
        let intrinsic = bounded(items.intrinsic, allowedKeys: Set(KVPIntrinsicKey.allCases.map(\.rawValue)))
        let user = bounded(items.user, allowedKeys: nil)
        state.withLock { state in
            state.guestIntrinsic = intrinsic
            state.guestUser = user
        }
        if !rejected.isEmpty {
            onEventRelay(.itemsRejected(rejected.prefix(3).joined(separator: "; ")))
        }
    }

    /// The VM's Data Exchange items.
    public func kvpItems() -> KVPItems {
        state.withLock { state in
            KVPItems(guest: state.guestIntrinsic.merging(state.guestUser) { intrinsic, _ in intrinsic },
                     guestUser: state.guestUser, host: state.hostItems)
        }
    }

    /// Replaces the host pool and sends it to the guest when the service is up.
    public func setHostItems(_ items: [String: String]) async {
        state.withLock { $0.hostItems = items }
        try? await sendHostItems()
    }

    func sendHostItems() async throws {
        let items = state.withLock { $0.hostItems }
        try await connection(.kvp).send(HostItems(items: items))
    }
}
