import APITypes
import ArgumentParser

/// `viridian vm disk add|remove|resize` (Add-VMHardDiskDrive / Remove-VMHardDiskDrive / Resize-VHD).
struct VMDisk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk", abstract: "Attach, detach or grow hard disks; live on a running VM's SCSI controller.",
        subcommands: [Add.self, Remove.self, Resize.self])

    struct Location: ParsableArguments {
        @Option(help: "Controller type: ide or scsi.") var controllerType: ControllerType?
        @Option(help: "Controller number.") var controllerNumber: Int?
        @Option(help: "Location on the controller.") var location: Int?
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attach a disk file, or a host disk with --pass-through (the first free location unless given, on the controller type given if any).",
            discussion: """
                While the VM runs the disk goes onto a SCSI controller the VM has, and the guest sees it at once; IDE disks are added only while the VM is Off, as in Hyper-V.

                A pass-through disk (Hyper-V's physical hard disk) is a host block device such as /dev/sdb, given to the guest whole and raw. It is refused while the host has it or one of its partitions mounted, uses it as swap or under the device mapper, or another VM has it. A VM with one cannot take checkpoints or backups or move (its data is on the device, which Viridian never copies); detach it first.
                """)
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The disk file, or the host block device with --pass-through.") var path: String
        @Flag(help: "Give the host block device PATH to the VM whole (a physical hard disk).") var passThrough = false
        @OptionGroup var at: Location
        @Option(help: ArgumentHelp("The disk's format: vhdx, vhd, qcow2 or raw.",
                                   discussion: "Recognised images (VHDX, VHD, qcow2 — whatever the file is named) need none; a raw disk image that Viridian did not create must be declared with --format raw, because raw is never guessed."))
        var format: VHDFormat?

        func run() async throws {
            let info = try await options.client.addDisk(vm.name, AddDiskRequest(
                path: absolute(path), controllerType: at.controllerType, controllerNumber: at.controllerNumber, location: at.location,
                format: format, passThrough: passThrough ? true : nil))
            if options.json { try Output.json(info) } else {
                print("Attached \(absolute(path))\(passThrough ? " (pass-through)" : "") to VM '\(info.name)'.")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Detach a disk, by path or location; the file stays.",
            discussion: "While the VM runs, a SCSI disk is removed at once (the guest sees it vanish, whether or not it still had it mounted) and its file is closed, so it can be attached elsewhere; an IDE disk, or a VM with checkpoints, is refused.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The attached disk file (as in vm disk add).") var file: String?
        @Option(help: "The attached disk file (the same as the argument).") var path: String?
        @OptionGroup var at: Location

        func validate() throws {
            if file != nil, path != nil { throw ValidationError("name the disk once: as the argument or with --path") }
            guard file != nil || path != nil || (at.controllerType != nil && at.location != nil) else {
                throw ValidationError("name the disk by its file (vm disk remove VM FILE), or with --controller-type and --location")
            }
        }

        func run() async throws {
            let info = try await options.client.removeDisk(vm.name, path: (file ?? path).map(absolute), controllerType: at.controllerType,
                                                           controllerNumber: at.controllerNumber, location: at.location)
            if options.json { try Output.json(info) } else { print("Detached the disk from VM '\(info.name)'.") }
        }
    }

    struct Resize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grow one of the VM's disks (as vhd resize): live while it runs when the disk is on SCSI.",
            discussion: "The guest sees the new size at once (virtio-scsi reports the change); growing its partition and file system is the guest's part. An IDE disk grows only while the VM is Off, a disk with checkpoints not at all, VHDX not (QEMU cannot), and nothing shrinks.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var vm: VMNameArgument
        @Argument(help: "The attached disk file.") var path: String
        @Option(help: "New virtual size, e.g. 40G.") var size: String

        func run() async throws {
            let disk = absolute(path)
            let attached = try await options.client.vm(vm.name).drives.contains { $0.kind == .hardDisk && $0.path == disk }
            guard attached else { throw ViridianError(.notFound, "VM '\(vm.name)' has no hard disk \(disk) (see: viridian vm show \(vm.name))") }
            let info = try await options.client.resizeVHD(ResizeVHDRequest(path: disk, sizeBytes: try ByteSize.parse(size)))
            try VHDCommand.print(info, json: options.json)
        }
    }
}

extension ControllerType: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}
