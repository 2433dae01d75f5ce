import APITypes
import Foundation

/// The start of a QEMU migration stream as `migrate` writes it to a saved-state file: the magic
/// `QEVM`, stream version 3, then the configuration section naming the machine type the VM ran with.
///
/// QEMU writes this header before any guest memory, so the guest cannot choose it. A VM saved before
/// Viridian recorded machine types restores with the type read here.
public enum SavedStateHeader {
    private static let magic: [UInt8] = [0x51, 0x45, 0x56, 0x4D]
    private static let streamVersion: [UInt8] = [0, 0, 0, 3]
    private static let configurationSection: UInt8 = 0x07

    /// The machine type in the header of `bytes` (the first bytes of a saved-state file).
    /// - Throws: `invalidArgument` when the bytes are not a QEMU stream with a configuration section.
    public static func machineType(in bytes: [UInt8]) throws -> String {
        guard bytes.count >= 13, Array(bytes[0..<4]) == magic, Array(bytes[4..<8]) == streamVersion,
              bytes[8] == configurationSection else {
            throw ViridianError(.invalidArgument, "the saved state does not start with a QEMU stream header")
        }
        let length = bytes[9..<13].reduce(0) { $0 << 8 | Int($1) }
        guard (1...255).contains(length), bytes.count >= 13 + length,
              let name = String(bytes: bytes[13..<(13 + length)], encoding: .ascii),
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else {
            throw ViridianError(.invalidArgument, "the saved state's header names no valid machine type")
        }
        return name
    }

    /// The machine type recorded at the start of the saved-state file at `path`.
    public static func machineType(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ViridianError(.notFound, "cannot open the saved state \(path)")
        }
        defer { try? handle.close() }
        let bytes = try handle.read(upToCount: 13 + 255) ?? Data()
        return try machineType(in: [UInt8](bytes))
    }
}
