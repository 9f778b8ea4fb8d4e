// The sweep's process runner (Sources/MeanField/Sweeps/SweepRunner.swift) with a stand-in for the
// meanfield binary (a shell script): at most `parallel` runs at a time, each run's output in its
// log, a failed run recorded while the others go on, finished runs skipped the second time.
import Foundation
import MeanField
import Testing

/// A fake `meanfield`: `train … --heads H --out DIR` logs its start and end in TRACE, fails for
/// H = 2, and otherwise writes a completed summary.json into DIR.
private let fakeBinary = """
#!/bin/sh
out=""; heads=""
while [ $# -gt 0 ]; do
  case "$1" in --out|--resume) out="$2"; shift ;; --heads) heads="$2"; shift ;; esac
  shift
done
trace="$(dirname "$(dirname "$out")")/trace"
echo start >> "$trace"
echo "fake train heads=$heads"
sleep 0.3
echo end >> "$trace"
if [ "$heads" = 2 ]; then echo "Error: --heads 2 is unlucky" >&2; exit 3; fi
mkdir -p "$out"
echo '{"status": "completed", "steps": 5, "meanFieldTime": 0.5, "finalTrainRisk": 0.25, "wallSeconds": 0.01}' > "$out/summary.json"
"""

@Suite struct SweepRunnerTests {
    @Test func runsAtMostParallelAtATimeRecordsFailuresAndSkipsFinishedRuns() throws {
        let folder = NSTemporaryDirectory() + "meanfield-sweeprunner-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let binary = folder + "/fake-meanfield"
        try Data(fakeBinary.utf8).write(to: URL(fileURLWithPath: binary))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary)
        let manifest = SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "1,2,3,4", "--steps", "5"]))
        let runner = SweepRunner(manifest: manifest, directory: folder + "/sweep", executable: binary, threadsPerRun: 1, parallel: 2)
        try FileManager.default.createDirectory(atPath: runner.directory, withIntermediateDirectories: true)
        try manifest.write(to: runner.directory)

        var lines: [String] = []
        let outcome = try runner.run(report: { lines.append($0) })
        #expect(outcome.runDirectories == ["heads-1", "heads-2", "heads-3", "heads-4"].map { runner.directory + "/runs/" + $0 })
        #expect(outcome.failed == ["heads-2"])
        #expect(outcome.statuses == ["heads-1": "completed", "heads-2": "failed", "heads-3": "completed", "heads-4": "completed"])
        #expect(lines.contains { $0.contains("run heads-2 failed (exit status 3): --heads 2 is unlucky") }, "\(lines)")
        // Never more than 2 at a time, and 2 at some point.
        var running = 0, most = 0
        for event in try String(contentsOfFile: runner.directory + "/trace", encoding: .utf8).split(separator: "\n") {
            running += event == "start" ? 1 : -1
            most = max(most, running)
        }
        #expect(most == 2)
        let log = try String(contentsOfFile: runner.directory + "/runs/heads-3.log", encoding: .utf8)
        #expect(log.contains("fake train heads=3"))
        #expect(log.hasPrefix("# \(binary) train --steps 5 --heads 3 --out \(runner.directory)/runs/heads-3 --threads 1\n"), "\(log)")
        let csv = try String(contentsOfFile: runner.directory + "/summary.csv", encoding: .utf8)
        #expect(csv.contains("heads-2,2,failed,,,,,,,,\n") && csv.contains("heads-1,1,completed,5,0.5,0.25,,,,,0.01\n"), "\(csv)")

        // Again: the three finished runs are skipped, the failed one runs again (and fails again).
        try FileManager.default.removeItem(atPath: runner.directory + "/trace")
        let again = try runner.run(report: { _ in })
        #expect(Set(again.skipped) == ["heads-1", "heads-3", "heads-4"])
        #expect(again.failed == ["heads-2"])
        #expect(try String(contentsOfFile: runner.directory + "/trace", encoding: .utf8) == "start\nend\n")
    }
}
