import APITypes
import ArgumentParser
import Foundation

/// `viridian vm checkpoint NAME [--name CP]` (Checkpoint-VM) and `vm checkpoint list|apply|remove|rename`
/// (Get-VMCheckpoint, Restore-VMCheckpoint, Remove-VMCheckpoint, Rename-VMCheckpoint).
struct VMCheckpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Take, list, apply, export, rename and remove a VM's checkpoints.",
        discussion: """
            A checkpoint keeps the VM's disks (VHDX, VHD, qcow2 or raw alike) as they are at that moment, and \
            for a standard checkpoint its memory too. The VM's checkpoint type (viridian vm set --checkpoint-type) \
            decides which: production (the default) freezes the guest's file systems through the VSS service or \
            qemu-guest-agent around a disk-only point; applied, the VM is Off and boots clean. Checkpoints form a \
            tree: applying an older one starts a new branch and keeps the others.
            """,
        subcommands: [Create.self, List.self, Apply.self, Export.self, Rename.self, Remove.self], defaultSubcommand: Create.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Take a checkpoint (the default: vm checkpoint NAME).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @OptionGroup var vm: VMNameArgument
        @Option(help: "The checkpoint's name (default: the VM's name and the time).") var name: String?

        func run() async throws {
            try await JobRunner.run(options, jobOptions, start: {
                try await options.client.createCheckpoint(vm.name, NewCheckpointRequest(name: name))
            }) { job in
                print(job.statusMessage ?? "Checkpoint taken.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The VM's checkpoints as a tree; 'Now' marks where the VM is.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument

        func run() async throws {
            let checkpoints = try await options.client.checkpoints(vm.name)
            if options.json { return try Output.json(checkpoints) }
            guard !checkpoints.isEmpty else { return print("VM '\(vm.name)' has no checkpoints.") }
            var rows: [[String]] = []
            func add(_ parent: String?, depth: Int) {
                for checkpoint in checkpoints where checkpoint.parent == parent {
                    let indent = String(repeating: "  ", count: depth)
                    rows.append([indent + checkpoint.name, checkpoint.type.rawValue, checkpoint.vmState.rawValue,
                                 Output.time(checkpoint.createdAt)])
                    if checkpoint.isCurrent { rows.append([indent + "  Now", "", "", ""]) }
                    add(checkpoint.name, depth: depth + 1)
                }
            }
            add(nil, depth: 0)
            Output.table(["NAME", "TYPE", "VM STATE", "CREATED"], rows)
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply", abstract: "Return the VM to a checkpoint; a running VM is turned off and its current state is lost.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The checkpoint.") var checkpoint: String

        func run() async throws {
            try await JobRunner.run(options, jobOptions, start: { try await options.client.applyCheckpoint(vm.name, checkpoint) }) { job in
                print(job.statusMessage ?? "Applied.")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write a self-contained copy of the VM at a checkpoint into DIR/<VM name>; vm import brings it back.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The checkpoint.") var checkpoint: String
        @Argument(help: "An existing folder; the export makes a new folder in it named after the VM.") var directory: String

        func run() async throws {
            try await JobRunner.run(options, jobOptions, start: {
                try await options.client.exportCheckpoint(vm.name, checkpoint, to: absolute(directory))
            }) { job in
                print(job.statusMessage ?? "Exported.")
            }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a checkpoint.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The checkpoint.") var checkpoint: String
        @Argument(help: "Its new name.") var newName: String

        func run() async throws {
            let renamed = try await options.client.renameCheckpoint(vm.name, checkpoint, to: newName)
            if options.json { try Output.json(renamed) } else { print("Checkpoint '\(checkpoint)' is now '\(renamed.name)'.") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a checkpoint; its disk changes are merged into what depends on them, live on a running VM.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The checkpoint.") var checkpoint: String
        @Flag(help: "Also remove every checkpoint taken after it on its branches.") var subtree = false

        func run() async throws {
            try await JobRunner.run(options, jobOptions, start: {
                try await options.client.removeCheckpoint(vm.name, checkpoint, subtree: subtree)
            }) { job in
                print(job.statusMessage ?? "Removed.")
            }
        }
    }
}
