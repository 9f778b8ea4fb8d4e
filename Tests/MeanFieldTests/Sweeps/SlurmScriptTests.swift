// Slurm emission (Sources/MeanField/Sweeps/SlurmScript.swift): the job-array script's directives
// and paths, runs.txt lines that parse back to each run's flags, the report job and submit.sh, and
// shell quoting. The scripts run on a real Slurm in scripts/slurm_sweep_test.sh (.ci/run).
import Foundation
import MeanField
import Testing

@Suite struct SlurmScriptTests {
    @Test func emitWritesAJobArrayOverTheGridWithAbsolutePaths() throws {
        let folder = NSTemporaryDirectory() + "meanfield-slurm-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let grid = try SweepGrid.make(arguments: ["--task", "icl-regression", "--heads", "1,2", "--steps", "20", "--data", "my data/x"], seeds: 2)
        let runner = SweepRunner(manifest: SweepManifest(grid: grid), directory: folder, executable: "/opt/mean field/meanfield", threadsPerRun: 3, parallel: 1)
        let emitted = try SlurmScript.emit(runner: runner, parallel: 2, maxArraySize: 1001, workingDirectory: "/srv/work")
        let path = folder + "/sweep.sbatch"
        #expect(emitted.chunks == [0 ..< 4])
        let script = try String(contentsOfFile: path, encoding: .utf8)
        let directives = script.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }
        #expect(directives == [
            "#SBATCH --job-name=meanfield-slurm-\(getpid())",
            "#SBATCH --array=0-3%2",
            "#SBATCH --output=\(folder)/runs/%x-%A_%a.log",
            "#SBATCH --open-mode=append",
            "#SBATCH --signal=B:TERM@120",
            "#SBATCH --requeue",
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=3",
            "#SBATCH --chdir=/srv/work",
        ])
        #expect(script.hasPrefix("#!/bin/bash\n"))
        #expect(SlurmScript.jobName(forDirectory: "/x/runs/width sweep") == "meanfield-width_sweep")
        #expect(script.contains("MEANFIELD=\"${MEANFIELD:-'/opt/mean field/meanfield'}\""))
        #expect(script.contains("task=$((SLURM_ARRAY_TASK_ID + ${MEANFIELD_TASK_OFFSET:-0}))\n"))
        #expect(script.contains("\"$MEANFIELD\" sweep --array-task \"$task\" --threads-per-run \"${SLURM_CPUS_PER_TASK:-3}\" --out \(folder) &\n"))
        #expect(FileManager.default.isExecutableFile(atPath: path))
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder + "/runs", isDirectory: &isFolder) && isFolder.boolValue)
        #expect(try SweepManifest.read(from: folder) == runner.manifest)

        // runs.txt: line i is run i's train arguments; each parses back to the same flags.
        let lines = try String(contentsOfFile: folder + "/runs.txt", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        for (line, run) in zip(lines, runner.manifest.runs) {
            let words = try SlurmScript.shellWords(String(line))
            #expect(words == runner.trainArguments(run))
            let flags = try SweepGrid.parseFlags(words)
            #expect(flags == run.flags + [SweepFlag("out", folder + "/runs/" + run.name), SweepFlag("threads", "3")])
        }
        #expect(lines[0] == "--task icl-regression --steps 20 --data 'my data/x' --heads 1 --seed 0 --out \(folder)/runs/heads-1_seed-0 --threads 3")
    }

    @Test func ranksPerRunAskForThatManyTasksAndStartTheRunUnderMPI() throws {
        let folder = NSTemporaryDirectory() + "meanfield-slurm-ranks-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let runner = SweepRunner(manifest: SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "1,2"])),
                                 directory: folder, executable: "/bin/meanfield", threadsPerRun: 2, parallel: 1)
        try SlurmScript.emit(runner: runner, parallel: nil, maxArraySize: 1001, ranksPerRun: 4)
        let script = try String(contentsOfFile: folder + "/sweep.sbatch", encoding: .utf8)
        #expect(script.contains("#SBATCH --ntasks=4\n#SBATCH --cpus-per-task=2\n"))
        #expect(script.contains("--threads-per-run \"${SLURM_CPUS_PER_TASK:-2}\" --ntasks-per-run \"${SLURM_NTASKS:-4}\" --out \(folder) &\n"))
        // The report job is one process.
        #expect(try String(contentsOfFile: folder + "/report.sbatch", encoding: .utf8).contains("#SBATCH --ntasks=1\n"))
        // The task's train arguments carry --distributed data (fresh here; a resume too).
        let task = try SweepRunner.arrayTask(index: 1, directory: folder, ranks: 4, report: { _ in })
        guard case .run(let arguments) = task else { Issue.record("\(task)"); return }
        #expect(arguments.suffix(2) == ["--distributed", "data"] && arguments.first == "train", "\(arguments)")
        // A grid that asks for particle-parallel runs keeps that mode (once) for the runs wide enough to
        // split over the ranks (heads 4, M′ 4 over 2), and the narrow ones run data-parallel (heads 1).
        let particleFolder = folder + "-particle"
        defer { try? FileManager.default.removeItem(atPath: particleFolder) }
        let particle = SweepRunner(manifest: SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "1,4", "--distributed", "particle"])),
                                   directory: particleFolder, executable: "/bin/meanfield", threadsPerRun: 2, parallel: 1)
        try SlurmScript.emit(runner: particle, parallel: nil, maxArraySize: 1001, ranksPerRun: 2)
        var said: [String] = []
        guard case .run(let split) = try SweepRunner.arrayTask(index: 1, directory: particleFolder, ranks: 2, report: { said.append($0) }),
              case .run(let narrow) = try SweepRunner.arrayTask(index: 0, directory: particleFolder, ranks: 2, report: { said.append($0) }) else {
            Issue.record("not runs"); return
        }
        #expect(split.suffix(2) == ["--distributed", "particle"] && split.filter { $0 == "--distributed" }.count == 1, "\(split)")
        #expect(narrow.suffix(2) == ["--distributed", "data"] && said.contains { $0.contains("M = 1 heads") }, "\(narrow) \(said)")
        // One rank drops the mode.
        guard case .run(let alone) = try SweepRunner.arrayTask(index: 0, directory: particleFolder, ranks: 1, report: { _ in }) else { Issue.record("not a run"); return }
        #expect(!alone.contains("--distributed"), "\(alone)")
    }

    @Test func parallelDefaultsToAllRunsAndIsCappedByTheirNumber() throws {
        let folder = NSTemporaryDirectory() + "meanfield-slurm-cap-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let runner = SweepRunner(manifest: SweepManifest(grid: try SweepGrid.make(arguments: ["--heads", "1,2,4"])),
                                 directory: folder, executable: "/bin/meanfield", threadsPerRun: 1, parallel: 1)
        for (given, expected) in [(nil, "0-2%3"), (8, "0-2%3"), (1, "0-2%1")] as [(Int?, String)] {
            try SlurmScript.emit(runner: runner, parallel: given, maxArraySize: 1001)
            let script = try String(contentsOfFile: folder + "/sweep.sbatch", encoding: .utf8)
            #expect(script.contains("#SBATCH --array=\(expected)\n"))
        }
    }

    @Test(arguments: ["plain", "with space", "it's", "\"quoted\"", "$HOME", "a\\b", "", "--lr=0.1", "tab\there"])
    func shellQuotingRoundTrips(word: String) throws {
        let line = ["x", word, "y"].map(SlurmScript.shellQuoted).joined(separator: " ")
        #expect(try SlurmScript.shellWords(line) == ["x", word, "y"])
    }

    @Test func shellWordsReadsDoubleQuotesAndBackslashes() throws {
        #expect(try SlurmScript.shellWords(#"a "b c" d\ e "f\"g" 'h'i"#) == ["a", "b c", "d e", "f\"g", "hi"])
        #expect(throws: RunError.self) { try SlurmScript.shellWords("a 'b") }
    }
}
