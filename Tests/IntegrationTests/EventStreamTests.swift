import APIClient
import APITypes
import Foundation
import Testing

/// `GET /v1/events/stream` and `viridian events --follow`: what happens is seen as it happens.
@Suite("Event stream", .enabled(if: HostSupport.hasQEMU && HostSupport.hasBuild, Comment(rawValue: HostSupport.missing)))
struct EventStreamTests {
    @Test("events and job changes arrive as they happen, filtered by VM; the CLI follows them; a stopping daemon ends the stream")
    func follow() async throws {
        try await TestDaemon.with { daemon in
            let all = try await daemon.client.eventStream()
            let onlyOther = try await daemon.client.eventStream(vm: "other")
            let follower = Process()
            follower.executableURL = URL(fileURLWithPath: BuildProducts.viridian)
            follower.arguments = ["events", "--follow", "--jobs", "--json", "--host", daemon.socket]
            let output = Pipe()
            follower.standardOutput = output
            try follower.run()

            try await daemon.createTestVM("streamed")
            var sawBuild = false
            var sawCreated = false
            var items = all.makeAsyncIterator()
            while !(sawBuild && sawCreated), let item = try await items.next() {
                if let job = item.job, job.kind == "image.build", job.state == .completed { sawBuild = true }
                if let event = item.event, event.vm == "streamed", event.message.contains("was created") { sawCreated = true }
            }
            #expect(sawBuild && sawCreated, "the image build's completion and the VM's creation came through the stream")

            // The daemon stops promptly with streams open, and the streams end.
            let stopping = ContinuousClock.now
            await daemon.stop()
            #expect(ContinuousClock.now - stopping < .seconds(20), "open streams do not hold the daemon's shutdown")
            var filtered = onlyOther.makeAsyncIterator()
            var other: [StreamItem] = []
            while let item = try? await filtered.next() { other.append(item) }
            #expect(other.allSatisfy { $0.event?.vm == "other" || $0.job?.vm == "other" }, "the VM filter holds: \(other.count) items")
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            follower.waitUntilExit()
            #expect(follower.terminationStatus == 8, "the CLI says the stream ended (exit 8), not success")
            let lines = printed.split(separator: "\n")
            #expect(lines.contains { $0.contains("was created") } && lines.contains { $0.contains("\"image.build\"") },
                    "the CLI printed the creation and the build's job changes, one JSON line each: \(printed.suffix(2000))")
            try await daemon.start()
        }
    }
}
