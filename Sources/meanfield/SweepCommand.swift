import ArgumentParser
import Foundation
import MeanField

/// `meanfield sweep`: runs `meanfield train` over a grid of flags (resumable: finished runs are
/// skipped; final metrics in summary.csv), locally as parallel child processes with a concurrency
/// limit or, with `--emit slurm`, as a Slurm job array (docs/cluster.md).
/// The grid logic lives in the library (Sources/MeanField/Sweeps/); this command parses the
/// sweep-only flags, has the library check every run (``SweepRunner/checkRuns()``), and runs them.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run meanfield train over a grid of flags (parallel, resumable), or emit it as a Slurm job array.",
        discussion: """
        Any flag of meanfield train may be given; a comma-separated list makes a grid axis and the runs are \
        the Cartesian product (first axis slowest, seed fastest), named from their values (heads-8_layers-2_seed-0). \
        Every run's flags are checked before anything starts, and a grid that cannot give the fits its axes \
        suggest (fewer than 3 widths below the reference, one seed, one depth) is warned about, one line per missing fit.
        Writes DIR/sweep.json (grid, fixed flags, runs), DIR/runs/<name>/ (each run's folder), DIR/runs/<name>.log \
        and, at the end, DIR/summary.csv (name, grid flags, status, steps, t, R, eval_R, Q, train_acc, test_acc, \
        wall_seconds), then the limit diagnostics of `meanfield diagnose` (DIR/diagnostics.json). Running the same command again skips finished runs and resumes interrupted ones \
        (from their last checkpoint: give --checkpoint-every to have one). The exit status is non-zero if a run failed.
        Examples:
          meanfield sweep --task icl-regression --heads 2,8,32 --layers 2,8 --seeds 3 --out runs/width
          meanfield sweep --grid sweep.toml --out runs/lr --parallel 2 --threads-per-run 1
          meanfield sweep --heads 2,8 --seeds 4 --steps 2000 --checkpoint-every 100 --out /shared/runs/w --emit slurm --time 1:00:00 --mem 2G
          /shared/runs/w/submit.sh
        """)

    @Option(help: "Sweep folder: sweep.json, runs/<name>/, runs/<name>.log, summary.csv (required).") var out: String?
    @Option(help: "Sweep file (.toml, .json, .yaml): keys are train flags; a list value is an axis, a single value is fixed; may also set seeds, parallel, threads-per-run, out. Flags override it.") var grid: String?
    @Option(help: "Add the axis seed = 0 … N−1 (or give --seed a,b,c).") var seeds: Int?
    @Option(help: "Runs at a time (default: cores / threads-per-run; with --emit slurm: the array's %P throttle, default all runs).") var parallel: Int?
    @Option(help: "Worker threads of each run, its --threads (default 1; Slurm: --cpus-per-task).") var threadsPerRun: Int?
    @Option(help: "Instead of running: 'slurm' writes DIR/sweep.sbatch (the job array), DIR/report.sbatch, DIR/submit.sh (submits both, chained), DIR/runs.txt and DIR/sweep.json.") var emit: String?
    @Option(help: "Samples the limit diagnostics measure distances on (meanfield diagnose --eval-size; default \(LimitDiagnostics.defaultEvalSize)).") var diagnoseEvalSize: Int?
    @Flag(help: "Check the flags of every run and print what would run (start, resume or skip), without running anything.") var dryRun = false
    @Option(help: "Write DIR/summary.csv for the sweep in DIR from whatever runs have finished (after a Slurm array).") var summarize: String?
    @OptionGroup var slurm: SweepSlurmOptions
    @Option(help: "Slurm: MPI processes of each run; K > 1 makes every run one K-rank job (--ntasks=K; mpirun -np K meanfield train --distributed data, or particle when the grid gives --distributed particle; docs/distributed.md).") var ntasksPerRun: Int?
    @Option(help: ArgumentHelp("Run task I of DIR/runs.txt (what each task of sweep.sbatch does); needs --out DIR.", visibility: .hidden)) var arrayTask: Int?
    @Argument(parsing: .allUnrecognized, help: "Train flags; comma-separated values make grid axes (e.g. --heads 2,8,32 --lr 0.01,0.1).") var trainFlags: [String] = []

    /// `--ntasks-per-run`, checked: 1 … 4096 (a typo guard; each rank is a process).
    private func checkedRanksPerRun() throws -> Int? {
        guard let ntasksPerRun else { return nil }
        guard (1...4096).contains(ntasksPerRun) else {
            throw RunError("--ntasks-per-run: expected an integer in 1...4096 (MPI processes of each run), got \(ntasksPerRun)")
        }
        return ntasksPerRun
    }

    /// The full path of `name` in a folder of PATH, if it is there and executable.
    private func executableOnPath(_ name: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run() throws {
        if let summarize { return try summarizeSweep(summarize) }
        if let arrayTask {
            guard let out = try out.map({ try runFolder($0, default: "sweep") }) else { throw RunError("--array-task needs --out DIR (the folder of sweep.sbatch and runs.txt)") }
            if let threads = threadsPerRun, threads < 1 || threads > TrainBound.threads.value {
                throw RunError("--threads-per-run (SLURM_CPUS_PER_TASK in sweep.sbatch): expected an integer in 1...\(TrainBound.threads.value), got \(threads)")
            }
            let ranks = try checkedRanksPerRun() ?? 1
            switch try SweepRunner.arrayTask(index: arrayTask, directory: out, threads: threadsPerRun, ranks: ranks) {
            case .finished(let status): if status != "completed" { throw ExitCode(1) }
            case .run(let arguments) where ranks > 1:
                // One K-rank job: mpirun starts the K processes in this Slurm allocation (--ntasks=K).
                guard let mpirun = executableOnPath("mpirun") else {
                    throw RunError("--ntasks-per-run \(ranks): no mpirun on PATH on this node; load Open MPI (e.g. module load openmpi) in the job or its environment")
                }
                try replaceProcess(executable: mpirun, arguments: ["-np", String(ranks), SweepRunner.currentExecutable()] + arguments)
            case .run(let arguments): try replaceProcess(executable: SweepRunner.currentExecutable(), arguments: arguments)
            }
            return
        }
        let resources = try slurm.resources(emitting: emit != nil)
        if ntasksPerRun != nil, emit == nil {
            throw RunError("--ntasks-per-run makes each run a K-rank Slurm job: add --emit slurm (a local run is mpirun -np K meanfield train --distributed data)")
        }
        let ranksPerRun = try checkedRanksPerRun() ?? 1

        let file = try grid.map(SweepFile.load)
        guard let directory = out ?? file?.out else { throw RunError("--out DIR is required: the sweep's folder (runs, logs, sweep.json, summary.csv)") }
        try InputPath.checkFolder(directory, flag: "--out")
        let sweepGrid = try SweepGrid.make(arguments: trainFlags, base: file?.grid ?? SweepGrid(axes: [], fixed: []), seeds: seeds)
        let threads = threadsPerRun ?? file?.threadsPerRun ?? 1
        let bound = TrainBound.threads
        guard threads >= 1, threads <= bound.value else {
            throw RunError("--threads-per-run: expected an integer in 1...\(bound.value) (\(bound.reason)), got \(threads)")
        }
        if let parallel = parallel ?? file?.parallel, parallel < 1 || parallel > SweepGrid.maximumRuns {
            throw RunError("--parallel: expected an integer in 1...\(SweepGrid.maximumRuns) (runs at a time, each a process), got \(parallel)")
        }
        if let diagnoseEvalSize, diagnoseEvalSize < 0 || diagnoseEvalSize > Int(TrainBound.size.value) {
            throw RunError("--diagnose-eval-size: expected an integer in 0...\(TrainBound.size.value) (0 = each run's own set), got \(diagnoseEvalSize)")
        }
        let manifest = SweepManifest(grid: sweepGrid)
        let runner = SweepRunner(manifest: manifest, directory: directory, executable: SweepRunner.currentExecutable(), threadsPerRun: threads,
                                 parallel: parallel ?? file?.parallel ?? SweepRunner.defaultParallel(threadsPerRun: threads))

        // Every run resolved by the library as meanfield train resolves it, before anything starts.
        try runner.checkRuns()
        // Fits the grid's axes suggest but cannot give: said before anything runs, one line each.
        for line in sweepGrid.missingFits() {
            FileHandle.standardError.write(Data("meanfield sweep: warning: \(line)\n".utf8))
        }
        for line in manifest.droppedFlagNotes {
            FileHandle.standardError.write(Data("meanfield sweep: note: \(line)\n".utf8))
        }
        let shape = sweepGrid.axes.map { "\($0.values.count) \($0.flag)" }.joined(separator: " × ")
        let counted = "\(manifest.runs.count) run\(manifest.runs.count == 1 ? "" : "s")" + (shape.isEmpty ? "" : " (\(shape))")

        if let emit {
            guard emit.lowercased() == "slurm" else { throw RunError("--emit: expected slurm, got '\(emit)'") }
            let script = try SlurmScript.emit(runner: runner, parallel: parallel ?? file?.parallel, resources: resources, maxArraySize: slurm.maxArraySize,
                                              ranksPerRun: ranksPerRun)
            for line in SlurmSite.nodeLocalWarnings(executable: script.executable, sweepDirectory: script.sweepDirectory, workingDirectory: script.workingDirectory) {
                FileHandle.standardError.write(Data("meanfield sweep: warning: \(line)\n".utf8))
            }
            let folder = SlurmScript.shellQuoted(runner.directory)
            let arrays = script.chunks.count == 1 ? "one array job" : "\(script.chunks.count) array jobs (MaxArraySize \(script.maxArraySize))"
            let ranks = ranksPerRun > 1 ? "\(ranksPerRun) MPI processes of \(threads) CPU\(threads == 1 ? "" : "s") per run" : "\(threads) CPU\(threads == 1 ? "" : "s") per task"
            print("meanfield sweep: \(counted) as \(arrays), \(ranks), then a report job: \(runner.directory)/\(SlurmScript.scriptFileName)")
            print("  submit:  \(SlurmScript.shellQuoted(runner.directory + "/" + SlurmScript.submitFileName))   (the array and the report job; or the array alone: sbatch \(SlurmScript.shellQuoted(runner.directory + "/" + SlurmScript.scriptFileName)))")
            print("  watch:   squeue --me; tail \(folder)/runs/*.log")
            print("  collect: \(folder)/report.html, diagnostics.json and summary.csv, written by the report job when every task has succeeded")
            return
        }

        if dryRun {
            print("meanfield sweep (dry run): \(counted), \(runner.parallel) at a time, \(threads) thread\(threads == 1 ? "" : "s") each, in \(runner.directory)")
            for run in manifest.runs {
                let (state, arguments) = runner.plan(run)
                let action: String
                switch state {
                case .finished(let status): action = "skip (\(status))"
                case .interrupted: action = "resume"
                case .notStarted: action = "start"
                }
                print("  \(run.name): \(action)" + (arguments.map { ": meanfield " + $0.map(SlurmScript.shellQuoted).joined(separator: " ") } ?? ""))
            }
            return
        }

        // One sweep per folder: locked before sweep.json is checked and written, until the sweep ends.
        let lock = try RunLock.acquire(directory: runner.directory, purpose: "meanfield sweep")
        defer { lock.release() }
        try manifest.checkCompatible(withExistingIn: runner.directory)
        try manifest.write(to: runner.directory)
        print("meanfield sweep: \(counted), \(runner.parallel) at a time, \(threads) thread\(threads == 1 ? "" : "s") each, in \(runner.directory)")
        // SIGINT/SIGTERM/SIGHUP: the runs were stopped at a checkpoint.
        let outcome = try exitingAsSignal("sweep") { try runner.run(lock: lock) }

        // Limit diagnostics (claims C1, C2 of theory §1.5) of whatever finished: DIR/diagnostics.json
        // for `meanfield report`.
        do {
            let report = try LimitDiagnostics.diagnose(runner.directory, evalSize: diagnoseEvalSize ?? LimitDiagnostics.defaultEvalSize)
            try report.write(to: runner.directory)
            let text = LimitDiagnostics.describe(report)
            if !text.isEmpty { print(text) }
        } catch {
            print("meanfield sweep: no diagnostics (\(error)); run meanfield diagnose \(runner.directory) after fixing it")
        }

        let counts = Dictionary(grouping: outcome.statuses.values, by: { $0 }).map { "\($1.count) \($0)" }.sorted().joined(separator: ", ")
        print("meanfield sweep: \(manifest.runs.count) runs: \(counts)" + (outcome.skipped.isEmpty ? "" : " (\(outcome.skipped.count) finished before)")
              + "; \(runner.directory)/\(SweepSummary.fileName)")
        if !outcome.failed.isEmpty {
            throw RunError("\(outcome.failed.count) run\(outcome.failed.count == 1 ? "" : "s") did not complete: \(outcome.failed.joined(separator: ", ")) (logs: \(runner.directory)/runs/<name>.log)")
        }
    }

    /// `--summarize DIR`: summary.csv from whatever runs have finished (after a Slurm array).
    func summarizeSweep(_ directory: String) throws {
        let manifest = try SweepManifest.read(from: directory)
        let rows = try SweepSummary.write(directory: directory, manifest: manifest)
        let statusColumn = rows[0].firstIndex(of: "status")!
        let counts = Dictionary(grouping: rows.dropFirst().map { $0[statusColumn] }, by: { $0 }).map { "\($1.count) \($0)" }.sorted().joined(separator: ", ")
        print("meanfield sweep: \(manifest.runs.count) runs: \(counts); wrote \(directory)/\(SweepSummary.fileName)")
    }
}
