import APITypes
import Foundation
import HostTools

/// The UEFI firmware (OVMF) a Generation 2 VM boots, from Debian's `ovmf` package.
public struct Firmware: Sendable {
    public let code: String
    public let variablesTemplate: String

    /// The firmware for a Generation 2 VM with or without Secure Boot.
    /// - Throws: `missingDependency` naming the `ovmf` package.
    public static func uefi(secureBoot: Bool) throws -> Firmware {
        let directory = "/usr/share/OVMF"
        let firmware = secureBoot
            ? Firmware(code: "\(directory)/OVMF_CODE_4M.secboot.fd", variablesTemplate: "\(directory)/OVMF_VARS_4M.ms.fd")
            : Firmware(code: "\(directory)/OVMF_CODE_4M.fd", variablesTemplate: "\(directory)/OVMF_VARS_4M.fd")
        for file in [firmware.code, firmware.variablesTemplate] where !FileManager.default.fileExists(atPath: file) {
            throw HostExecutable.missing(file, package: "ovmf")
        }
        return firmware
    }
}
