import APITypes
import Foundation
import HostTools

/// Lays out the test guest's initramfs tree: static busybox with its applet links, the kernel
/// modules in load order, busybox init's configuration and the boot scripts.
struct InitramfsLayout {
    let root: String
    let busybox: String

    func assemble(kernelTree: String, kernelVersion: String) async throws {
        let files = FileManager.default
        for directory in ["bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "etc/acpi/PWRF", "proc", "sys", "dev",
                          "lib/modules", "mnt", "tmp", "root"] {
            try files.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        try installBusybox()
        try await linkApplets()
        try files.createSymbolicLink(atPath: "\(root)/init", withDestinationPath: "/bin/busybox")

        let modulesDirectory = "\(kernelTree)/lib/modules/\(kernelVersion)"
        let resolver = ModuleResolver(modulesDep: try String(contentsOfFile: "\(modulesDirectory)/modules.dep", encoding: .utf8))
        let order = try resolver.loadOrder(TestGuestRecipe.modules)
        var names: [String] = []
        for relative in order {
            let name = (relative as NSString).lastPathComponent
            try files.copyItem(atPath: "\(modulesDirectory)/\(relative)", toPath: "\(root)/lib/modules/\(name)")
            names.append(name)
        }
        try write(names.joined(separator: "\n") + "\n", to: "etc/modules.order")
        try write(TestGuestRecipe.inittab, to: "etc/inittab")
        try write(TestGuestRecipe.rcS, to: "etc/init.d/rcS", executable: true)
        try write(TestGuestRecipe.powerButton, to: "etc/acpi/PWRF/00000080", executable: true)
        try write(TestGuestRecipe.udhcpcScript, to: "etc/udhcpc.script", executable: true)
        try write("root:x:0:0:root:/root:/bin/sh\n", to: "etc/passwd")
        try write("root:x:0:\n", to: "etc/group")
    }

    /// Installs Viridian's guest agent where a real guest has it, with its init script.
    func installAgent(_ bundle: GuestAgentBundle) throws {
        let binary = "\(root)/usr/sbin/viridian-guest"
        try FileManager.default.copyItem(atPath: bundle.binary, toPath: binary)
        chmod(binary, 0o755)
        let script = "\(root)/etc/init.d/viridian-guest"
        try FileManager.default.copyItem(atPath: bundle.initScript, toPath: script)
        chmod(script, 0o755)
    }

    /// Copies busybox, refusing a dynamically linked one (it would not run without its libraries).
    private func installBusybox() throws {
        guard let data = FileManager.default.contents(atPath: busybox) else {
            throw HostExecutable.missing(busybox, package: "busybox-static")
        }
        if data.range(of: Data("/lib64/ld-linux".utf8)) != nil {
            throw ViridianError(.missingDependency,
                                "\(busybox) is dynamically linked; install the static one with: apt-get install busybox-static")
        }
        try data.write(to: URL(fileURLWithPath: "\(root)/bin/busybox"))
        chmod("\(root)/bin/busybox", 0o755)
    }

    /// One symbolic link per applet, where busybox says it belongs (`/sbin/poweroff`…).
    private func linkApplets() async throws {
        let list = try await HostCommand.check(busybox, ["--list-full"], purpose: "listing busybox applets")
        for applet in list.standardOutput.split(separator: "\n") where !applet.isEmpty {
            let path = "\(root)/\(applet)"
            guard !FileManager.default.fileExists(atPath: path) else { continue }
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/bin/busybox")
        }
    }

    private func write(_ text: String, to relative: String, executable: Bool = false) throws {
        let path = "\(root)/\(relative)"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, executable ? 0o755 : 0o644)
    }
}
