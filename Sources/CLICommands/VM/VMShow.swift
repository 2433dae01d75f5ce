import ArgumentParser

/// `viridian vm show NAME`.
struct VMShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a VM's settings and state.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var vm: VMNameArgument

    func run() async throws {
        let info = try await options.client.vm(vm.name)
        if options.json { return try Output.json(info) }
        var fields: [(String, String)] = [
            ("Name", info.name), ("State", info.state.rawValue),
            ("Busy", info.operation.map(\.description) ?? "no"),
            ("Generation", String(info.generation)),
            ("Processors", String(info.processorCount)), ("Memory", "\(info.memoryMiB) MiB"),
            ("Uptime", Output.duration(info.uptimeSeconds)), ("Secure Boot", info.secureBoot ? "on" : "off"),
            ("TPM", info.tpm ? "on" : "off"), ("Video", info.video ? "on (graphical console)" : "off"),
            ("Shielded", info.shielded ? (info.allowConsole ? "yes (console and exec allowed)" : "yes") : "no"),
            ("Boot order", info.bootOrder.map(\.rawValue).joined(separator: ", ")),
            ("Machine type", info.machineType ?? "not fixed yet (fixed at the next start)"),
            ("Automatic stop", info.automaticActions.stopAction.cliName),
            ("Automatic start", info.automaticActions.startAction.cliName
                + (info.automaticActions.startDelaySeconds > 0 ? " after \(info.automaticActions.startDelaySeconds) s" : "")),
        ]
        if let image = info.image { fields.append(("Image", image)) }
        if let boot = info.kernelBoot {
            fields.append(("Kernel", boot.kernel))
            if let append = boot.append { fields.append(("Command line", append)) }
        }
        for drive in info.drives {
            fields.append(("\(drive.kind.rawValue) \(drive.locationName)", (drive.path ?? "(empty)") + (drive.passThrough ? " (pass-through)" : "")))
        }
        for (index, adapter) in info.networkAdapters.enumerated() {
            fields.append(("Network adapter \(index)", "\(adapter.kind.rawValue) \(adapter.macAddress) on \(adapter.switchName)"))
        }
        if let pid = info.workerPID { fields.append(("Worker pid", String(pid))) }
        if let status = info.engineStatus { fields.append(("QEMU status", status)) }
        if !info.notes.isEmpty { fields.append(("Notes", info.notes)) }
        Output.fields(fields)
    }
}
