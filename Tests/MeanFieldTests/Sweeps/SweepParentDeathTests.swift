// Runs cannot be lost (issue 14, item 4): a sweep's runs end with their parent however it ends, and a
// rerun finishes every run exactly once. Through the real binary: SIGKILL of the sweep's process at
// 10 random moments with a rerun after each (every run's metrics.jsonl then equals an uninterrupted
// sweep's, byte for byte, and summary.csv agrees with the run folders); SIGHUP and a second Ctrl-C;
// a run whose parent is already gone does not start. In this process, with a stand-in binary: a run
// whose folder another process writes is not started twice; summary.csv rows come from run folders.
// The binary: Support/MeanFieldBinary.swift.
import Foundation
import MeanField
import MeanFieldCore
import Testing

/// The pids of the processes whose parent is `parent` (Linux: /proc/PID/stat).
private func children(of parent: pid_t) -> [pid_t] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { Int32($0) }.filter { processInfo($0)?.parent == parent }
}

/// State letter and parent of a process, or nil when there is no such process.
private func processInfo(_ pid: pid_t) -> (state: Character, parent: pid_t)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 2, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
    return (state, parent)
}

/// Whether `pid` is a live process (not gone, not a zombie).
private func isAlive(_ pid: pid_t) -> Bool {
    guard let info = processInfo(pid) else { return false }
    return info.state != "Z" && info.state != "X"
}

private func freshFolder(_ name: String) -> String {
    let folder = NSTemporaryDirectory() + "meanfield-sweep-death-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: folder)
    return folder
}

private func csv(_ folder: String) throws -> [[String]] {
    try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8).split(separator: "\n")
        .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

private func json(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
}

@Suite(.serialized, .enabled(if: meanfieldBinary != nil && FileManager.default.fileExists(atPath: "/proc/self/stat"),
                             "needs the meanfield binary next to the test bundle (swift build --build-tests) and Linux /proc"))
struct SweepParentDeathTests {
    /// Three small regression runs, two at a time, checkpointing and logging every step.
    private let grid = ["--task", "icl-regression", "--heads", "1,2,3", "--layers", "1", "--ffn-units", "2", "--steps", "150",
                        "--train-size", "8", "--eval-size", "8", "--log-every", "1", "--checkpoint-every", "1", "--seed", "4",
                        "--threads-per-run", "1", "--parallel", "2"]
    private let names = ["heads-1", "heads-2", "heads-3"]

    @Test func tenSIGKILLsOfTheSweepWithRerunsEndWithTheUninterruptedRuns() throws {
        let reference = freshFolder("reference"), folder = freshFolder("killed")
        defer { for path in [reference, folder] { try? FileManager.default.removeItem(atPath: path) } }
        let uninterrupted = try meanfield(["sweep"] + grid + ["--out", reference])
        #expect(uninterrupted.status == 0, "\(uninterrupted.output)")

        var generator = PhiloxRandom(seed: 14)
        var orphans = 0
        for kill in 1...10 {
            // The rerun: the same command; it is SIGKILLed at a random moment (start-up included).
            let sweep = try startMeanfield(["sweep"] + grid + ["--out", folder])
            usleep(UInt32.random(in: 50_000...700_000, using: &generator))
            let listed = children(of: sweep.processIdentifier)
            Foundation.kill(sweep.processIdentifier, SIGKILL)
            sweep.waitUntilExit()
            // No run outlives it: its children end, and no run folder is held, within a few seconds.
            // Looked for twice, 0.5 s apart, by their environment too: a run launched in the instant
            // before the kill is no longer anyone's child, and one between fork and exec does not
            // show its environment yet (CI failure of stop 16: such a run took its folder's lock
            // just after the next sweep had found it free, and that sweep's own run of it failed).
            var runs = listed
            func gone() -> Bool {
                // A run launched in the instant before the kill is nobody's child once orphaned: found by the
                // sweep it names in its environment.
                runs = Array(Set(runs + processes(withEnvironment: "MEANFIELD_PARENT_PID=\(sweep.processIdentifier)")))
                return !runs.contains(where: isAlive) && names.allSatisfy { RunLock.holder(of: folder + "/runs/" + $0) == nil }
            }
            var ended = wait(upTo: 10, for: gone)
            usleep(500_000)
            ended = ended && wait(upTo: 10, for: gone)
            orphans += runs.count
            #expect(ended, "kill \(kill): runs \(runs.filter(isAlive)) of the killed sweep still run")
        }
        #expect(orphans > 0, "no kill landed while runs were running")

        let finished = try meanfield(["sweep"] + grid + ["--out", folder])
        // The runs' own logs name why one failed.
        let logs = names.map { "\($0).log: " + ((try? String(contentsOfFile: folder + "/runs/\($0).log", encoding: .utf8)) ?? "none") }
        #expect(finished.status == 0, "\(finished.output)\n\(logs.joined(separator: "\n"))")
        for name in names {
            let expected = try String(contentsOfFile: reference + "/runs/\(name)/metrics.jsonl", encoding: .utf8)
            let actual = try String(contentsOfFile: folder + "/runs/\(name)/metrics.jsonl", encoding: .utf8)
            #expect(actual == expected, "\(name): metrics differ from the uninterrupted sweep's")
        }
        // summary.csv: each row agrees with its run's files, and equals the uninterrupted sweep's but for the wall time.
        let rows = try csv(folder), referenceRows = try csv(reference)
        let header = rows[0]
        let column = { (name: String) in header.firstIndex(of: name)! }
        #expect(rows.count == 4 && header == referenceRows[0])
        for (row, referenceRow) in zip(rows.dropFirst(), referenceRows.dropFirst()) {
            let run = folder + "/runs/" + row[0]
            let summary = try json(run + "/summary.json")
            // Numbers as written (JSONSerialization may round the last digit).
            let summaryText = try String(contentsOfFile: run + "/summary.json", encoding: .utf8)
            func written(_ key: String) -> Double? {
                guard let range = summaryText.range(of: "\"\(key)\" : ") else { return nil }
                return Double(summaryText[range.upperBound...].prefix { !",\n}".contains($0) })
            }
            let lastLine = try #require(try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").last)
            let last = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any])
            #expect(row[column("status")] == "completed" && summary["status"] as? String == "completed")
            #expect(Int(row[column("steps")]) == summary["completed_steps"] as? Int && Int(row[column("steps")]) == last["step"] as? Int)
            #expect(Double(row[column("t")]) == written("mean_field_time"))
            #expect(Double(row[column("R")]) == written("R"))
            #expect(Double(row[column("eval_R")]) == written("eval_R"))
            #expect(Double(row[column("wall_seconds")]) == written("wall_seconds"))
            let wall = column("wall_seconds")
            #expect(Array(row[..<wall]) == Array(referenceRow[..<wall]), "\(row) vs \(referenceRow)")
        }
        // Exactly once: a further rerun finds every run finished and changes nothing.
        let again = try meanfield(["sweep"] + grid + ["--out", folder])
        #expect(again.status == 0 && again.output.contains("3 of 3 runs already finished"), "\(again.output)")
        #expect(try csv(folder) == rows)
    }

    @Test func hangupStopsTheRunsAtACheckpointAndASecondCtrlCEndsEverythingAtOnce() throws {
        let longRuns = ["--task", "icl-regression", "--heads", "1,2", "--layers", "1", "--ffn-units", "2", "--steps", "100000",
                        "--train-size", "8", "--eval-size", "8", "--log-every", "50", "--checkpoint-every", "50",
                        "--threads-per-run", "1", "--parallel", "2"]
        for signals in [[SIGHUP], [SIGINT, SIGINT]] {
            let folder = freshFolder("signal-\(signals.count)")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let sweep = try startMeanfield(["sweep"] + longRuns + ["--out", folder])
            // Both runs training (a metrics line is written once the run catches stop signals).
            let started = wait(upTo: 30) {
                ["heads-1", "heads-2"].allSatisfy { ((try? Data(contentsOf: URL(fileURLWithPath: folder + "/runs/\($0)/metrics.jsonl")))?.count ?? 0) > 0 }
            }
            #expect(started, "the runs never started")
            let runs = children(of: sweep.processIdentifier)
            #expect(runs.count == 2)
            for signal in signals {
                kill(sweep.processIdentifier, signal)
                usleep(30_000)
            }
            sweep.waitUntilExit()
            #expect(sweep.terminationReason == .exit && sweep.terminationStatus == 128 + signals[0])
            let ended = wait(upTo: 10) {
                !runs.contains(where: isAlive) && ["heads-1", "heads-2"].allSatisfy { RunLock.holder(of: folder + "/runs/" + $0) == nil }
            }
            #expect(ended, "runs \(runs.filter(isAlive)) outlived the sweep")
            if signals == [SIGHUP] {
                // One signal: each run stopped at a checkpoint and said so; summary.csv was written.
                for name in ["heads-1", "heads-2"] {
                    #expect(try json(folder + "/runs/\(name)/summary.json")["status"] as? String == "interrupted")
                }
                #expect(try csv(folder).dropFirst().map { $0[2] } == ["interrupted", "interrupted"])
            }
        }
    }

    @Test func aRunWhoseSweepHasAlreadyEndedDoesNotStart() throws {
        let folder = freshFolder("orphan")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: meanfieldBinary!)
        process.arguments = ["train", "--steps", "5", "--out", folder]
        // A parent pid that is not this run's parent: the sweep that started it is gone.
        process.environment = ProcessInfo.processInfo.environment.merging([ProcessSetup.parentPIDVariable: "999999"]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGTERM && output.contains("has ended; not starting"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: folder))
    }
}

/// A stand-in `meanfield`: `train … --out DIR` (or `--resume DIR`) records its start in TRACE and
/// writes a completed summary.json into DIR.
private let fakeBinary = """
#!/bin/sh
out=""
while [ $# -gt 0 ]; do
  case "$1" in --out|--resume) out="$2"; shift ;; esac
  shift
done
echo "start $(basename "$out")" >> "$(dirname "$(dirname "$out")")/trace"
mkdir -p "$out"
echo '{"status": "completed", "steps": 5, "meanFieldTime": 0.5, "finalTrainRisk": 0.25, "wallSeconds": 0.01}' > "$out/summary.json"
"""

private final class LockBox: @unchecked Sendable {
    var lock: RunLock?
}

@Suite struct SweepBusyRunTests {
    @Test func aRunWhoseFolderAnotherProcessWritesIsNotStartedTwice() throws {
        let folder = freshFolder("busy")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let binary = folder + "/fake-meanfield"
        try Data(fakeBinary.utf8).write(to: URL(fileURLWithPath: binary))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary)
        let manifest = SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "1,2", "--steps", "5"]))
        var runner = SweepRunner(manifest: manifest, directory: folder + "/sweep", executable: binary, threadsPerRun: 1, parallel: 2)
        try FileManager.default.createDirectory(atPath: runner.directory, withIntermediateDirectories: true)
        try manifest.write(to: runner.directory)
        let trace = runner.directory + "/trace"

        // heads-2's folder is held (as by a run of a killed sweep, still stopping): reported, not started.
        runner.busyTimeout = 0.5
        let holder = LockBox()
        holder.lock = try RunLock.acquire(directory: runner.directory + "/runs/heads-2", purpose: "a run of a killed sweep")
        var lines: [String] = []
        let outcome = try runner.run(report: { lines.append($0) })
        #expect(outcome.failed == ["heads-2"] && outcome.statuses["heads-1"] == "completed")
        #expect(lines.contains { $0.contains("run heads-2 not started") && $0.contains("in use by pid \(getpid())") }, "\(lines)")
        #expect(try String(contentsOfFile: trace, encoding: .utf8) == "start heads-1\n")
        #expect(try csv(runner.directory)[2][2] == "incomplete")

        // The same, released after a moment: the sweep waits for it, then runs it (once).
        runner.busyTimeout = 30
        lines = []
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { holder.lock?.release() }
        let again = try runner.run(report: { lines.append($0) })
        #expect(again.failed.isEmpty && again.skipped == ["heads-1"] && again.statuses["heads-2"] == "completed")
        #expect(lines.contains { $0.contains("run heads-2") && $0.contains("waiting for it to end") }, "\(lines)")
        #expect(try String(contentsOfFile: trace, encoding: .utf8) == "start heads-1\nstart heads-2\n")

        // A second sweep on the folder is refused while one holds it.
        let sweepLock = try RunLock.acquire(directory: runner.directory, purpose: "meanfield sweep")
        #expect(throws: RunError.self) { _ = try runner.run(report: { _ in }) }
        sweepLock.release()
    }

    @Test func summaryRowsComeFromTheRunFoldersOwnFiles() throws {
        let folder = freshFolder("rows")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let manifest = SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "1,2"]))
        // heads-1: stopped by SIGTERM at step 40, resumed, then killed at step 70: its summary.json is the
        // stop's (steps = the run's length, older values); the row takes the metrics log's last line.
        let run = folder + "/runs/heads-1"
        try FileManager.default.createDirectory(atPath: run + "/checkpoints", withIntermediateDirectories: true)
        try Data(#"{"status": "interrupted", "steps": 100, "meanFieldTime": 0.8, "finalTrainRisk": 0.5, "wallSeconds": 2}"#.utf8)
            .write(to: URL(fileURLWithPath: run + "/summary.json"))
        try Data("{\"step\":70,\"t\":1.4,\"R\":0.25,\"Q\":0.25,\"eval_R\":0.5}\n".utf8).write(to: URL(fileURLWithPath: run + "/metrics.jsonl"))
        try Data().write(to: URL(fileURLWithPath: run + "/checkpoints/step-00000070.safetensors"))
        // The runner's word never makes a run completed that its folder does not say is.
        try SweepSummary.write(directory: folder, manifest: manifest, statuses: ["heads-1": "completed", "heads-2": "failed"])
        let rows = try csv(folder)
        #expect(rows[1] == ["heads-1", "1", "interrupted", "70", "1.4", "0.25", "0.5", "0.25", "", "", ""])
        #expect(rows[2].prefix(3) == ["heads-2", "2", "failed"])
    }
}
