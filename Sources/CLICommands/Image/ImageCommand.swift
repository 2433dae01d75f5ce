import ArgumentParser

/// `viridian image …`: images VMs boot from.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Build and list images.", subcommands: [TestGuest.self, List.self])

    struct TestGuest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test-guest",
            abstract: "Build (cached) and register the test guest: Debian's cloud kernel, a busybox initramfs, an ext4 root disk.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var jobOptions: JobOptions

        func run() async throws {
            try await JobRunner.run(options, jobOptions, start: { try await options.client.buildTestGuest() }) { job in
                print(job.statusMessage ?? "image 'test-guest' ready")
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
