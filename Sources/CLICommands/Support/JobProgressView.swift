import APIClient
import APITypes
import Foundation

/// Waits for a job, drawing a progress bar on standard error when it is a terminal.
struct JobProgressView {
    let client: ViridianClient
    let isTerminal = isatty(STDERR_FILENO) == 1

    /// Waits for the job and returns it finished; throws the job's error if it failed.
    func wait(for job: JobInfo) async throws -> JobInfo {
        defer { if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
        return try await client.waitForJob(job.id) { info in
            guard isTerminal else { return }
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + Self.bar(info)).utf8))
        }
    }

    /// `[##########----------]  50%  Saving vm1: writing memory (256 MiB)`
    static func bar(_ info: JobInfo, width: Int = 24) -> String {
        let filled = info.percentComplete * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(info.percentComplete).leftPadded(to: 3)
        let message = info.statusMessage.map { ": \($0)" } ?? ""
        return "[\(bar)] \(percent)%  \(info.description)\(message)"
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Runs a job-starting call, then either prints the job (`--no-wait`) or waits for it.
enum JobRunner {
    static func run(_ options: GlobalOptions, _ jobOptions: JobOptions, start: () async throws -> JobInfo,
                    done: (JobInfo) throws -> Void) async throws {
        let job = try await start()
        if jobOptions.noWait {
            if options.json { try Output.json(job) } else { print(job.id) }
            return
        }
        let finished = try await JobProgressView(client: options.client).wait(for: job)
        if options.json { try Output.json(finished) } else { try done(finished) }
    }
}
