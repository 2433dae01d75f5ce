/// A move whose commit was sent but whose outcome the destination never told: it may run the VM.
/// The source then keeps the VM paused, so that it never runs on two hosts.
package struct MoveOutcomeUnknown: Error {
    package let reason: String
}
