import APITypes

/// What tc does on one port: copies for port mirroring and the cap on the VM's outgoing traffic.
///
/// A tap's ingress is what the VM sends. Both directions of a Source port are copied to every
/// Destination port on the switch (`mirred … mirror`); the VM's outgoing traffic is redirected
/// through an IFB device whose token bucket (`tbf`) enforces the maximum bandwidth.
struct PortTrafficPlan: Equatable, Sendable {
    var tap: String
    var mirrorTo: [String]
    var maximumBandwidth: Int64?
    var shaper: String

    var isEmpty: Bool { mirrorTo.isEmpty && maximumBandwidth == nil }

    /// The token bucket must hold a whole GSO packet (64 KiB) and about 10 ms at the rate.
    var burstBytes: Int64 {
        max(128 << 10, (maximumBandwidth ?? 0) / 8 / 100)
    }
}

extension NetworkTools {
    /// Replaces whatever tc had on the tap with `plan`.
    func apply(_ plan: PortTrafficPlan) async throws {
        await removeTrafficControl(tap: plan.tap, shaper: plan.shaper)
        guard !plan.isEmpty else { return }
        try await tc(["qdisc", "add", "dev", plan.tap, "clsact"], "preparing tc on \(plan.tap)")
        var fromVM = plan.mirrorTo.flatMap { ["action", "mirred", "egress", "mirror", "dev", $0] }
        if let rate = plan.maximumBandwidth {
            try await ip(["link", "add", plan.shaper, "type", "ifb"], "creating the shaper \(plan.shaper)")
            try await ip(["link", "set", plan.shaper, "up"], "starting the shaper \(plan.shaper)")
            try await tc(["qdisc", "add", "dev", plan.shaper, "root", "tbf", "rate", "\(rate)bit",
                          "burst", "\(plan.burstBytes)", "latency", "50ms"], "setting the maximum bandwidth of \(plan.tap)")
            fromVM += ["action", "mirred", "egress", "redirect", "dev", plan.shaper]
        }
        let matchAll = ["protocol", "all", "u32", "match", "u32", "0", "0"]
        try await tc(["filter", "add", "dev", plan.tap, "ingress", "pref", "1"] + matchAll + fromVM,
                     "filtering the traffic of \(plan.tap)")
        if !plan.mirrorTo.isEmpty {
            let toVM = plan.mirrorTo.flatMap { ["action", "mirred", "egress", "mirror", "dev", $0] }
            try await tc(["filter", "add", "dev", plan.tap, "egress", "pref", "1"] + matchAll + toVM,
                         "mirroring the traffic of \(plan.tap)")
        }
    }

    /// Removes the tap's clsact qdisc and its shaper; nothing there is fine.
    func removeTrafficControl(tap: String, shaper: String) async {
        _ = try? await tc(["qdisc", "del", "dev", tap, "clsact"], "")
        await ipIgnoringFailure(["link", "del", shaper])
    }
}
