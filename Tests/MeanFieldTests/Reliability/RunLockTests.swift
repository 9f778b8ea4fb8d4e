// One writer per run folder (issue 14, item 4; Sources/MeanField/Runs/RunLock.swift): the lock itself
// in this process, then through the real binary: two `train --resume` on one folder (one refused,
// naming the other's pid; the log is the uninterrupted run's), two fresh runs with one --out (one
// refused; the folder then resumes), and a lock file left by a SIGKILLed run that does not block.
// The binary: Support/MeanFieldBinary.swift.
import Foundation
import MeanField
import Testing

private func lockFolder(_ name: String) -> String {
    let folder = NSTemporaryDirectory() + "meanfield-runlock-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: folder)
    return folder
}

@Suite struct RunLockTests {
    @Test func aSecondWriterIsRefusedNamingTheHolderUntilTheLockIsReleased() throws {
        let folder = lockFolder("unit") + "/run"
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        let lock = try RunLock.acquire(directory: folder, purpose: "test writer")
        #expect(FileManager.default.fileExists(atPath: folder + "/.lock"), "the folder is created")
        let holder = try #require(RunLock.holder(of: folder))
        #expect(holder.pid == getpid() && holder.purpose == "test writer" && holder.started != nil && holder.command?.isEmpty == false)

        // A second writer (flock is per open file: in this process too) is refused in one line naming the pid.
        let refusal = #expect(throws: RunError.self) { try RunLock.acquire(directory: folder, purpose: "second", patience: 0.05) }
        let message = refusal?.description ?? ""
        #expect(message.contains("pid \(getpid())") && message.contains("kill \(getpid())") && !message.contains("\n"), "\(message)")

        lock.release()
        #expect(!lock.isHeld && RunLock.holder(of: folder) == nil)
        #expect((try? String(contentsOfFile: folder + "/.lock", encoding: .utf8)) == "", "the record is cleared on release")
        // Released on deinit too.
        do {
            let scoped = try RunLock.acquire(directory: folder, purpose: "scoped")
            #expect(RunLock.holder(of: folder)?.purpose == "scoped" && scoped.isHeld)
        }
        #expect(RunLock.holder(of: folder) == nil)
        #expect(throws: RunError.self) { try RunLock.acquire(directory: folder + "-missing", purpose: "resume", creatingDirectory: false) }
    }

    @Test func aStaleRecordDoesNotBlockAndChildProcessesDoNotInheritTheLock() throws {
        let folder = lockFolder("stale")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A record left by a process that died (no flock on the file): nobody holds it.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(#"{"pid": 999999, "purpose": "meanfield train", "command": "meanfield train", "started": "2020-01-01T00:00:00Z"}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/.lock"))
        #expect(RunLock.holder(of: folder) == nil)
        let lock = try RunLock.acquire(directory: folder, purpose: "after a crash")
        #expect(RunLock.holder(of: folder)?.pid == getpid())

        // A child started with plain posix_spawn (every descriptor without O_CLOEXEC is inherited)
        // outlives the release: if it had inherited the lock file, the folder would stay locked.
        var child: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("3")]
        let environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin")]
        defer { (arguments + environment).forEach { free($0) } }
        #expect(posix_spawn(&child, "/bin/sleep", nil, nil, arguments + [nil], environment + [nil]) == 0)
        defer { kill(child, SIGKILL); var status: Int32 = 0; waitpid(child, &status, 0) }
        lock.release()
        #expect(RunLock.holder(of: folder) == nil, "the lock went with the child")
        #expect(throws: Never.self) { _ = try RunLock.acquire(directory: folder, purpose: "again") }
    }
}

/// A small regression run that checkpoints and logs every step (about a second in a debug build).
private let runFlags = ["--heads", "2", "--layers", "1", "--ffn-units", "2", "--train-size", "8", "--eval-size", "8",
                        "--log-every", "1", "--checkpoint-every", "1", "--seed", "3", "--threads", "1"]
private let runSteps = "300"

/// The metrics of the uninterrupted run, computed once for the tests below.
private let referenceMetrics: Result<String, any Error> = Result {
    let folder = lockFolder("reference")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let run = try meanfield(["train", "--steps", runSteps] + runFlags + ["--out", folder])
    guard run.status == 0 else { throw RunError("reference run failed: \(run.output)") }
    return try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
}

/// Starts the binary in the background with its output collected (read it after it exits).
private func startCollecting(_ arguments: [String]) throws -> (process: Process, output: () -> String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let box = OutputBox()
    let thread = Thread { box.data = pipe.fileHandleForReading.readDataToEndOfFile(); box.done.signal() }
    thread.start()
    return (process, { box.done.wait(); return String(decoding: box.data, as: UTF8.self) })
}

private final class OutputBox: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

@Suite(.serialized, .enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct RunFolderWriterTests {
    @Test func aKilledRunsLockFileDoesNotBlockAndOfTwoResumesOneIsRefused() throws {
        let expected = try referenceMetrics.get()
        let folder = lockFolder("resume")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A run SIGKILLed after some checkpoints: its lock file keeps its record, but holds nothing.
        let killed = try startMeanfield(["train", "--steps", runSteps] + runFlags + ["--out", folder])
        #expect(wait(upTo: 30) { (TrainingCheckpoint<Float>.latest(in: folder + "/checkpoints")?.step ?? 0) >= 5 })
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let record = try String(contentsOfFile: folder + "/.lock", encoding: .utf8)
        #expect(record.contains("\"pid\":\(killed.processIdentifier)"), "\(record)")
        #expect(RunLock.holder(of: folder) == nil)

        // Two resumes: the first holds the folder, the second is refused in one line naming its pid.
        let first = try startCollecting(["train", "--resume", folder, "--threads", "1"])
        let holding = wait(upTo: 30) { RunLock.holder(of: folder)?.pid == first.process.processIdentifier }
        #expect(holding, "the first resume never held the folder")
        let second = try meanfield(["train", "--resume", folder, "--threads", "1"])
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0, "\(first.output())")
        #expect(second.status != 0)
        let refusal = second.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(refusal.count == 1 && refusal[0].contains("pid \(first.process.processIdentifier)") && refusal[0].contains("--resume"),
                "\(second.output)")
        // The log is the uninterrupted run's; nothing holds the folder any more.
        #expect(try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8) == expected)
        #expect(RunLock.holder(of: folder) == nil)
    }

    @Test func ofTwoFreshRunsWithOneOutOneIsRefusedAndTheFolderResumes() throws {
        let expected = try referenceMetrics.get()
        let folder = lockFolder("same-out")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let command = ["train", "--steps", runSteps] + runFlags + ["--out", folder]
        let a = try startCollecting(command), b = try startCollecting(command)
        a.process.waitUntilExit()
        b.process.waitUntilExit()
        let results = [(a.process, a.output()), (b.process, b.output())]
        let winners = results.filter { $0.0.terminationStatus == 0 }
        #expect(winners.count == 1, "\(results.map { "\($0.0.terminationStatus): \($0.1)" })")
        if let winner = winners.first, let loser = results.first(where: { $0.0 !== winner.0 }) {
            #expect(loser.1.contains("in use by pid \(winner.0.processIdentifier)"), "\(loser.1)")
        }
        #expect(try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8) == expected)
        let resumed = try meanfield(["train", "--resume", folder, "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8) == expected)
    }
}
