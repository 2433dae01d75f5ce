import APITypes

/// The versioned machine types a QEMU binary offers (`-machine help`), and which versions the
/// `pc` and `q35` aliases stand for.
///
/// A VM keeps the versioned type it first ran with (`pc-i440fx-10.0`, not `pc`): the guest sees the
/// same hardware after an engine upgrade, its saved state and checkpoints still load, and it can
/// move only to hosts whose QEMU has that type — as Hyper-V keeps a VM's configuration version.
public struct QEMUMachineTypes: Sendable, Equatable {
    /// Every machine type name the binary accepts, aliases included.
    public let names: Set<String>
    /// Names QEMU marks deprecated (kept for incoming migrations and saved state).
    public let deprecated: Set<String>
    /// `pc` → `pc-i440fx-10.0`, `q35` → `pc-q35-10.0`.
    public let aliases: [String: String]

    public init(names: Set<String>, deprecated: Set<String>, aliases: [String: String]) {
        self.names = names
        self.deprecated = deprecated
        self.aliases = aliases
    }

    /// Parses `qemu-system-x86_64 -machine help`:
    /// `q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-10.0)`.
    public init(machineHelp: String) {
        var names: Set<String> = []
        var deprecated: Set<String> = []
        var aliases: [String: String] = [:]
        for line in machineHelp.split(separator: "\n") {
            guard let first = line.first, !first.isWhitespace,
                  let name = line.split(separator: " ", maxSplits: 1).first.map(String.init),
                  name != "Supported" else { continue }
            names.insert(name)
            if line.contains("(deprecated)") { deprecated.insert(name) }
            if let range = line.range(of: "(alias of ") {
                aliases[name] = String(line[range.upperBound...].prefix { $0 != ")" })
            }
        }
        self.init(names: names, deprecated: deprecated, aliases: aliases)
    }

    /// The alias a generation's device model uses: `pc` (i440FX, SeaBIOS) or `q35` (Q35, UEFI).
    public static func alias(for generation: Generation) -> String {
        generation == .one ? "pc" : "q35"
    }

    /// The newest versioned type for `generation` on this binary; the alias itself when QEMU names none.
    public func newest(for generation: Generation) -> String {
        let alias = Self.alias(for: generation)
        return aliases[alias] ?? alias
    }

    /// Whether `machineType` runs `generation`'s device model: `pc-i440fx-*` for 1, `pc-q35-*` for 2.
    public static func belongs(_ machineType: String, to generation: Generation) -> Bool {
        let alias = alias(for: generation)
        return machineType == alias || machineType.hasPrefix(generation == .one ? "pc-i440fx-" : "pc-q35-")
    }

    /// Why `machineType` cannot run here, or nil when it can.
    public func refusal(_ machineType: String, qemuVersion: String) -> String? {
        guard !names.contains(machineType) else { return nil }
        let version = QEMUVersionNumber(qemuVersion).map { "QEMU \($0.major).\($0.minor)" } ?? "this host's QEMU"
        return "machine type \(machineType) is not available in \(version) (its newest are "
            + "\(newest(for: .one)) and \(newest(for: .two)))"
    }
}
