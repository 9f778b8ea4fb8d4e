// `meanfield sweep` end to end through the real binary (Sources/meanfield/SweepCommand.swift and
// Sources/MeanField/Sweeps/): two tiny regression runs in parallel, then the same command again
// (finished runs skipped, an interrupted one resumed), a bad value refused before anything runs,
// and the Slurm path without Slurm (--emit slurm, one array task, --summarize).
//
// The binary: Tests/MeanFieldTests/Support/MeanFieldBinary.swift.
import Foundation
import MeanField
import Testing

private let tinyRuns = ["--task", "icl-regression", "--heads", "1,2", "--layers", "1", "--ffn-units", "2", "--steps", "10",
                        "--train-size", "8", "--eval-size", "8", "--log-every", "5", "--checkpoint-every", "5"]

private func csvRows(_ folder: String) throws -> [[String]] {
    try String(contentsOfFile: folder + "/summary.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

@Suite(.serialized, .enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct SweepEndToEndTests {
    @Test func sweepRunsInParallelThenSkipsFinishedAndResumesInterruptedRuns() throws {
        let folder = NSTemporaryDirectory() + "meanfield-sweep-e2e-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let command = ["sweep"] + tinyRuns + ["--threads-per-run", "1", "--parallel", "2", "--out", folder]
        let first = try meanfield(command)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("2 runs (2 heads)"), "\(first.output)")
        for name in ["heads-1", "heads-2"] {
            #expect(SweepRunState.inspect(folder + "/runs/" + name) == .finished(status: "completed"))
            let log = try String(contentsOfFile: folder + "/runs/\(name).log", encoding: .utf8)
            #expect(log.hasPrefix("# ") && log.contains("train --task icl-regression") && log.contains("--out \(folder)/runs/\(name) --threads 1"), "\(log)")
        }
        let manifest = try SweepManifest.read(from: folder)
        #expect(manifest.runs.map(\.name) == ["heads-1", "heads-2"])
        var rows = try csvRows(folder)
        #expect(rows.count == 3)
        #expect(rows[0] == ["name", "heads", "status", "steps", "t", "R", "eval_R", "Q", "train_acc", "test_acc", "wall_seconds"])
        #expect(rows[1].prefix(4) == ["heads-1", "1", "completed", "10"])
        #expect(rows[2].prefix(4) == ["heads-2", "2", "completed", "10"])
        #expect(Double(rows[1][5]) != nil && Double(rows[1][10]) != nil && rows[1][8].isEmpty)

        // heads-2 loses its summary (as if killed after its last checkpoint); heads-1 is finished.
        let finishedSummary = try Data(contentsOf: URL(fileURLWithPath: folder + "/runs/heads-1/summary.json"))
        try FileManager.default.removeItem(atPath: folder + "/runs/heads-2/summary.json")
        let second = try meanfield(command)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("1 of 2 runs already finished"), "\(second.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/runs/heads-1/summary.json")) == finishedSummary)
        let resumedLog = try String(contentsOfFile: folder + "/runs/heads-2.log", encoding: .utf8)
        #expect(resumedLog.contains("train --resume \(folder)/runs/heads-2 --steps 10 --log-every 5 --checkpoint-every 5 --threads 1"), "\(resumedLog)")
        #expect(SweepRunState.inspect(folder + "/runs/heads-2") == .finished(status: "completed"))
        rows = try csvRows(folder)
        #expect(rows.dropFirst().map { $0[2] } == ["completed", "completed"])

        // A third time: nothing to do. The same folder with another fixed value is refused.
        let third = try meanfield(command)
        #expect(third.status == 0 && third.output.contains("2 of 2 runs already finished"), "\(third.output)")
        let changed = try meanfield(command.map { $0 == "10" ? "20" : $0 })
        #expect(changed.status != 0 && changed.output.contains("--steps"), "\(changed.output)")
    }

    @Test func badValuesFailBeforeAnythingRunsInOneLine() throws {
        let folder = NSTemporaryDirectory() + "meanfield-sweep-e2e-bad-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (arguments, flag) in [(["--heads", "1,x"], "--heads"), (["--heads", "1,2", "--batch-size", "9", "--train-size", "8"], "--batch-size"),
                                  (["--heads", "1,2", "--hedas", "2"], "--hedas")] {
            let result = try meanfield(["sweep"] + arguments + ["--out", folder])
            #expect(result.status != 0)
            let lines = result.output.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(flag), "\(result.output)")
            #expect(!FileManager.default.fileExists(atPath: folder))
        }
    }

    @Test func slurmEmissionRunsOneArrayTaskAndSummarizes() throws {
        let folder = NSTemporaryDirectory() + "meanfield-sweep-e2e-slurm-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let emitted = try meanfield(["sweep"] + tinyRuns + ["--out", folder, "--emit", "slurm", "--threads-per-run", "1"])
        #expect(emitted.status == 0, "\(emitted.output)")
        #expect(emitted.output.contains("sbatch \(folder)/sweep.sbatch"), "\(emitted.output)")
        let script = try String(contentsOfFile: folder + "/sweep.sbatch", encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-1%2") && script.contains(meanfieldBinary!))
        #expect(!FileManager.default.fileExists(atPath: folder + "/runs/heads-1"))

        // What array task 1 does (Slurm sets SLURM_ARRAY_TASK_ID), twice: the second finds it finished.
        let task = try meanfield(["sweep", "--array-task", "1", "--out", folder])
        #expect(task.status == 0, "\(task.output)")
        #expect(SweepRunState.inspect(folder + "/runs/heads-2") == .finished(status: "completed"))
        let again = try meanfield(["sweep", "--array-task", "1", "--out", folder])
        #expect(again.status == 0 && again.output.contains("already finished"), "\(again.output)")

        let summary = try meanfield(["sweep", "--summarize", folder])
        #expect(summary.status == 0, "\(summary.output)")
        let rows = try csvRows(folder)
        #expect(rows.dropFirst().map { $0[2] } == ["pending", "completed"])
    }
}
