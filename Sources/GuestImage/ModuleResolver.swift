import APITypes

/// Orders kernel modules so that each comes after its dependencies, from a `modules.dep` file.
struct ModuleResolver {
    /// Module name (`virtio_blk`) → path relative to the modules directory.
    private var paths: [String: String] = [:]
    /// Module name → the names it depends on.
    private var dependencies: [String: [String]] = [:]

    /// Parses `modules.dep` text: `kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko …`.
    init(modulesDep: String) {
        for line in modulesDep.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard let path = parts.first.map(String.init) else { continue }
            let name = Self.name(of: path)
            paths[name] = path
            let needs = parts.count > 1 ? parts[1].split(separator: " ").map { Self.name(of: String($0)) } : []
            dependencies[name] = needs
        }
    }

    /// The relative paths of `wanted` and everything they need, dependencies first.
    func loadOrder(_ wanted: [String]) throws -> [String] {
        var ordered: [String] = []
        var seen = Set<String>()
        func visit(_ name: String) throws {
            guard seen.insert(name).inserted else { return }
            guard let path = paths[name] else {
                throw ViridianError(.missingDependency, "the guest kernel has no module '\(name)'")
            }
            for dependency in (dependencies[name] ?? []).reversed() { try visit(dependency) }
            ordered.append(path)
        }
        for name in wanted { try visit(name) }
        return ordered
    }

    /// `kernel/drivers/block/virtio_blk.ko` → `virtio_blk` (dashes count as underscores, as modprobe treats them).
    static func name(of path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let base = file.split(separator: ".").first.map(String.init) ?? file
        return base.split(separator: "-", omittingEmptySubsequences: false).joined(separator: "_")
    }
}
