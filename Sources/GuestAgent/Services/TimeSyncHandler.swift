import AgentProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Sets the guest clock from the host's samples.
struct TimeSyncHandler: GuestServiceHandler {
    func handle(_ frame: Frame, on port: GuestPort) {
        guard let sample = try? MessageCodec.decode(TimeSample.self, from: frame) else { return }
        let guestTime = Self.now()
        let skew = sample.hostTime - guestTime
        guard sample.mode == .set || abs(skew) > TimeSample.correctionThresholdNanoseconds else {
            port.send(TimeReply(guestTime: guestTime, adjusted: false, message: nil), channel: frame.channel)
            return
        }
        var target = timespec(tv_sec: Int(sample.hostTime / 1_000_000_000), tv_nsec: Int(sample.hostTime % 1_000_000_000))
        if clock_settime(CLOCK_REALTIME, &target) == 0 {
            port.send(TimeReply(guestTime: guestTime, adjusted: true, message: nil), channel: frame.channel)
        } else {
            port.send(TimeReply(guestTime: guestTime, adjusted: false,
                                message: SystemError(operation: "clock_settime", code: errno).description), channel: frame.channel)
        }
    }

    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
