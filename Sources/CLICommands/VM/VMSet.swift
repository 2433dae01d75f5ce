import APITypes
import ArgumentParser

/// `viridian vm set NAME …` (Set-VM), for an Off VM.
struct VMSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a VM's settings: hardware while it is Off; notes, automatic actions and the checkpoint type at any time.",
        discussion: """
            Automatic actions (Hyper-V's AutomaticStopAction / AutomaticStartAction): when the host shuts down \
            (viridian host shutdown, run by viridian-guests.service as the system stops) a running VM is saved \
            (save, the default), shut down (shut-down) or turned off (turn-off). When viridiand starts again it \
            starts the VMs that were running (start-if-running, the default), every VM once per host boot \
            (start), or none (nothing), each after its --automatic-start-delay.
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var jobOptions: JobOptions
    @OptionGroup var vm: VMNameArgument
    @Option(help: "Startup memory, e.g. 1G.") var memory: String?
    @Option(help: "Virtual processors.") var cpus: Int?
    @Option(help: "Notes.") var notes: String?
    @Option(help: ArgumentHelp("Boot order, comma-separated: HardDisk (or disk), DVD, Network.",
                               discussion: "Network boots over PXE: from the first synthetic adapter on Generation 2, from the first legacy adapter on Generation 1 (as in Hyper-V); the next device follows when no server answers.")) var bootOrder: String?
    @Option(help: "Kernel command line (direct kernel boot only).") var append: String?
    @Option(help: ArgumentHelp("QEMU machine type: 'latest' for this host's newest, or a versioned one (pc-i440fx-7.2, pc-q35-10.0).",
                               discussion: "A VM keeps the machine type it was created with across engine upgrades; 'latest' upgrades it (Update-VMVersion). A VM can only run on, or move to, a host whose QEMU offers its type."))
    var machineType: String?
    @Option(help: "What the host does with the VM when it shuts down: save, shut-down or turn-off.")
    var automaticStopAction: String?
    @Option(help: "What the host does with the VM when viridiand starts: nothing, start-if-running or start.")
    var automaticStartAction: String?
    @Option(help: "How long to wait before the automatic start: seconds (30, 30s), minutes (2m) or hours (1h), at most 1h.")
    var automaticStartDelay: String?
    @Option(help: ArgumentHelp("Which checkpoints the VM takes: production (the default), production-only, standard or disabled.",
                               discussion: "production freezes the guest's file systems around a disk-only point (applied, the VM is Off and boots clean), and takes a standard checkpoint with a warning when the guest cannot freeze; production-only fails instead; standard keeps memory and device state too (applied, the VM is Saved at that moment)."))
    var checkpointType: String?
    @Option(help: ArgumentHelp("A virtual TPM 2.0 (Generation 2): on or off.",
                               discussion: "Hyper-V's Enable-VMTPM, emulated by swtpm (apt-get install swtpm swtpm-tools). The TPM is made at the VM's next start; turned off, its state stays with the VM, so turning it on again gives the guest back the same TPM."))
    var tpm: OnOff?
    @Option(help: ArgumentHelp("Shield the VM (Generation 2, while Off): on. A job.",
                               discussion: "A key for the VM in this host's key store (root only) encrypts its disks (each rewritten as LUKS-encrypted qcow2; the plain disks Viridian created are deleted), its TPM state and its saved memory; its console is never logged, and its console, vm exec and file copy are refused unless --allow-console on. Checkpoints, backups and moves with storage are refused for a shielded VM. A shielded VM stays shielded."))
    var shielded: OnOff?
    @Option(help: "The video adapter the web console's graphical console shows (while Off): on or off.")
    var video: OnOff?
    @Option(help: "A shielded VM's serial console, vm exec and file copy (while Off): on or off.")
    var allowConsole: OnOff?

    func run() async throws {
        if let shielded {
            guard shielded == .on else {
                throw ValidationError("a shielded VM stays shielded (as in Hyper-V); copy its data out from inside the guest instead")
            }
            try await JobRunner.run(options, jobOptions, start: {
                try await options.client.shieldVM(vm.name, ShieldVMRequest(allowConsole: allowConsole.map { $0 == .on }))
            }) { job in
                print("VM '\(vm.name)' is \(job.statusMessage ?? "shielded").")
            }
            guard changesOtherSettings else { return }
        }
        let stopAction = try automaticStopAction.map { text in
            guard let action = AutomaticActions.StopAction.allCases.first(where: { $0.cliName == text.lowercased() }) else {
                throw ValidationError("--automatic-stop-action is save, shut-down or turn-off, not '\(text)'")
            }
            return action
        }
        let startAction = try automaticStartAction.map { text in
            guard let action = AutomaticActions.StartAction.allCases.first(where: { $0.cliName == text.lowercased() }) else {
                throw ValidationError("--automatic-start-action is nothing, start-if-running or start, not '\(text)'")
            }
            return action
        }
        let checkpoints = try checkpointType.map { text in
            guard let type = CheckpointType(optionName: text) else {
                throw ValidationError("--checkpoint-type is production, production-only, standard or disabled, not '\(text)'")
            }
            return type
        }
        let order = try bootOrder.map { text in
            try text.split(separator: ",").map { item in
                guard let device = BootDevice.allCases.first(where: { $0.rawValue.lowercased() == item.lowercased() })
                    ?? (item.lowercased() == "disk" ? .hardDisk : nil) else {
                    throw ValidationError("boot devices are HardDisk (or disk), DVD and Network, not '\(item)'")
                }
                return device
            }
        }
        let info = try await options.client.setVM(vm.name, SetVMRequest(
            processorCount: cpus, memoryMiB: try memory.map(ByteSize.parseMiB), notes: notes, bootOrder: order, append: append, machineType: machineType,
            automaticStopAction: stopAction, automaticStartAction: startAction,
            automaticStartDelaySeconds: try automaticStartDelay.map(DurationText.parseSeconds), checkpointType: checkpoints,
            tpm: tpm.map { $0 == .on }, allowConsole: shielded == nil ? allowConsole.map { $0 == .on } : nil,
            video: video.map { $0 == .on }))
        if options.json { try Output.json(info) } else { print("Updated VM '\(info.name)'.") }
    }

    /// Whether anything but shielding (and its console choice) was asked for.
    private var changesOtherSettings: Bool {
        memory != nil || cpus != nil || notes != nil || bootOrder != nil || append != nil || machineType != nil
            || automaticStopAction != nil || automaticStartAction != nil || automaticStartDelay != nil || checkpointType != nil || tpm != nil
            || video != nil
    }
}
