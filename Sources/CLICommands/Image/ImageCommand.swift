import ArgumentParser

/// `viridian image …`: images VMs boot from.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Build and list images.", subcommands: [TestGuest.self, List.self])

    struct TestGuest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test-guest",
            abstract: "Build (cached) and register the test guest: Debian's cloud kernel, a busybox initramfs, an ext4 root disk.",
            discussion: "It runs viridian-guest (the integration services agent). --agent qemu-guest-agent registers 'test-guest-qga' instead, which runs Debian's stock qemu-guest-agent.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions
        @Option(help: "viridian (the default) or qemu-guest-agent.") var agent = "viridian"

        func validate() throws {
            guard ["viridian", "qemu-guest-agent"].contains(agent) else {
                throw ValidationError("--agent must be viridian or qemu-guest-agent")
            }
        }

        func run() async throws {
            let qga = agent == "qemu-guest-agent"
            try await JobRunner.run(options, jobOptions, start: { try await options.client.buildTestGuest(qemuGuestAgent: qga) }) { job in
                print(job.statusMessage ?? "image ready")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered images.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let images = try await options.client.images()
            if options.json { return try Output.json(images) }
            Output.table(["NAME", "GEN", "KERNEL", "DISK"], images.map { [$0.name, String($0.generation), $0.kernel, $0.disk] })
        }
    }
}
