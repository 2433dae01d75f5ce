import APITypes
import ArgumentParser

/// `viridian vm create NAME …` (New-VM).
struct VMCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a VM.",
        discussion: """
            With --image, the VM boots that image (its root disk is a new differencing child of the image's disk).
            Without it, --disk, --dvd and --kernel describe the VM. Defaults as in Hyper-V: Generation 1,
            1 processor, 1024 MiB, one synthetic network adapter on the Default Switch.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "A unique name: letters, digits, '.', '_' and '-'.") var name: String
    @Option(help: "A registered image, e.g. test-guest.") var image: String?
    @Option(help: "Generation: 1 (BIOS, IDE) or 2 (UEFI, SCSI).") var generation: Int?
    @Option(help: "Startup memory, e.g. 512M or 2G.") var memory: String?
    @Option(help: "Virtual processors.") var cpus: Int?
    @Option(help: "An existing disk to attach (repeatable).") var disk: [String] = []
    @Option(help: "An ISO for the DVD drive.") var dvd: String?
    @Option(help: "Linux kernel for direct boot.") var kernel: String?
    @Option(help: "initramfs for direct boot.") var initrd: String?
    @Option(help: "Kernel command line (added to the image's).") var append: String?
    @Option(help: "Network adapter: synthetic, legacy (Generation 1) or none.") var network: String?
    @Option(name: .customLong("switch"), help: "The switch of the adapter (default: the NAT Default Switch).") var switchName: String?
    @Option(help: "Secure Boot (Generation 2): on or off.") var secureBoot: OnOff?
    @Option(help: "Notes.") var notes: String?
    @Option(help: "A video adapter, shown by the web console's graphical console: on (the default) or off.") var video: OnOff?

    func run() async throws {
        let request = CreateVMRequest(
            name: name, generation: generation, processorCount: cpus, memoryMiB: try memory.map(ByteSize.parseMiB),
            notes: notes, secureBoot: secureBoot.map { $0 == .on }, image: image, kernel: kernel.map(absolute),
            initrd: initrd.map(absolute), append: append, disks: disk.isEmpty ? nil : disk.map(absolute),
            dvd: dvd.map(absolute), network: network, switchName: switchName,
            video: video.map { $0 == .on })
        let vm = try await options.client.createVM(request)
        if options.json { try Output.json(vm) } else { print("Created VM '\(vm.name)' (Generation \(vm.generation), \(vm.memoryMiB) MiB, \(vm.processorCount) processor\(vm.processorCount == 1 ? "" : "s")).") }
    }
}

/// `on` / `off` for switches.
enum OnOff: String, ExpressibleByArgument, CaseIterable {
    case on, off
}
