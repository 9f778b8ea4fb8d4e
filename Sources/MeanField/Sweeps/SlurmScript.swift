import Foundation

/// `meanfield sweep … --emit slurm`: the same grid as Slurm job arrays, one array task per run,
/// results in the same layout as a local sweep (`DIR/runs/<name>/`), then a report job. Writes:
/// - `DIR/sweep.json` (``SweepManifest``);
/// - `DIR/runs.txt`: line i (0-based) = the `meanfield train` arguments of run i, shell-quoted;
/// - `DIR/sweep.sbatch`: the array script. Task i runs `meanfield sweep --array-task i --out DIR`
///   (line i of runs.txt: a finished run is skipped, an interrupted one resumes) with threads =
///   `SLURM_CPUS_PER_TASK`; SIGTERM 120 s before the time limit (or from preemption) makes the run
///   checkpoint, and the task requeues itself to resume;
/// - `DIR/report.sbatch`: `meanfield sweep --summarize`, `meanfield diagnose`, `meanfield report`;
/// - `DIR/submit.sh`: submits the array, cut into array jobs of at most ``maxArraySize`` tasks,
///   and the report job with `--dependency=afterok` on all of them.
public struct SlurmScript: Sendable, Equatable {
    public var jobName: String
    /// Number of runs n: array tasks 0 … n−1 (over all array jobs).
    public var count: Int
    /// At most this many tasks of an array job at a time (`%P`).
    public var parallel: Int
    /// Cores per task (`--cpus-per-task`; each run gets `--threads` = `SLURM_CPUS_PER_TASK`).
    public var cpusPerTask: Int
    /// MPI processes of each run (`--ntasks`): K > 1 makes each task a K-rank data-parallel job
    /// (`mpirun -np K meanfield train --distributed data`, docs/distributed.md).
    public var ranksPerRun = 1
    /// Absolute path of the sweep folder.
    public var sweepDirectory: String
    /// Absolute path of the `meanfield` binary on the cluster's shared filesystem.
    public var executable: String
    /// Folder the jobs run in (relative paths in the flags are relative to it).
    public var workingDirectory: String
    /// Time, memory, partition, account, QOS and free options of every job.
    public var resources: SlurmResources
    /// The site's `MaxArraySize`: an array job holds at most this many tasks.
    public var maxArraySize: Int
    /// Seconds before the time limit at which the array's batch shell gets SIGTERM.
    public static let signalSeconds = 120

    public init(jobName: String, count: Int, parallel: Int, cpusPerTask: Int, sweepDirectory: String, executable: String,
                workingDirectory: String, resources: SlurmResources = .none, maxArraySize: Int = SlurmSite.defaultMaxArraySize) {
        self.jobName = jobName
        self.count = count
        self.parallel = parallel
        self.cpusPerTask = cpusPerTask
        self.sweepDirectory = sweepDirectory
        self.executable = executable
        self.workingDirectory = workingDirectory
        self.resources = resources
        self.maxArraySize = maxArraySize
    }

    public static let scriptFileName = "sweep.sbatch"
    public static let reportScriptFileName = "report.sbatch"
    public static let submitFileName = "submit.sh"
    public static let runsFileName = "runs.txt"
    /// Environment variable of an array job: the run of its task 0 (set by submit.sh for a split array).
    public static let offsetVariable = "MEANFIELD_TASK_OFFSET"

    /// The array jobs: runs of each (``SlurmSite/chunks(count:maxArraySize:)``).
    public var chunks: [Range<Int>] { SlurmSite.chunks(count: count, maxArraySize: maxArraySize) }

    private var quotedDirectory: String { Self.shellQuoted(sweepDirectory) }

    /// `#SBATCH` lines shared by the array and the report job.
    private func header(_ lines: [String], tasks: Int = 1) -> String {
        (["--job-name=" + lines[0]] + lines.dropFirst() + ["--ntasks=\(tasks)", "--cpus-per-task=\(cpusPerTask)", "--chdir=\(workingDirectory)"] + resources.directives)
            .map { "#SBATCH " + $0 }.joined(separator: "\n")
    }

    /// sweep.sbatch, the array script.
    public var text: String {
        let first = chunks.first?.count ?? 1
        return """
        #!/bin/bash
        # MeanField sweep: \(count) runs of `meanfield train`, one Slurm array task each (docs/cluster.md).
        # Written by `meanfield sweep … --emit slurm`. Submit it with the report job:  \(Self.shellQuoted(sweepDirectory + "/" + Self.submitFileName))
        # Task i runs line i + $\(Self.offsetVariable) (0-based) of runs.txt into \(sweepDirectory)/runs/<name>/ with
        # SLURM_CPUS_PER_TASK threads: a finished run is skipped, an interrupted one (checkpoint, no summary)
        # continues with --resume. SIGTERM makes the run checkpoint and stop: \(Self.signalSeconds) s before the time
        # limit the task then requeues itself; a preempted or `scontrol requeue`d task is requeued by Slurm.
        # Either way it resumes from that checkpoint.
        \(header([jobName, "--array=0-\(first - 1)%\(min(parallel, first))", "--output=\(sweepDirectory)/runs/%x-%A_%a.log", "--open-mode=append",
                  "--signal=B:TERM@\(Self.signalSeconds)", "--requeue"], tasks: ranksPerRun))
        set -uo pipefail
        : "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}"
        MEANFIELD="${MEANFIELD:-\(Self.shellQuoted(executable))}"
        task=$((SLURM_ARRAY_TASK_ID + ${\(Self.offsetVariable):-0}))
        "$MEANFIELD" sweep --array-task "$task" --threads-per-run "${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}"\(ranksPerRun > 1 ? " --ntasks-per-run \"${SLURM_NTASKS:-\(ranksPerRun)}\"" : "") --out \(quotedDirectory) &
        run=$!
        stopped=""
        trap 'stopped=1; kill -TERM "$run" 2>/dev/null' TERM
        wait "$run"; status=$?
        while kill -0 "$run" 2>/dev/null; do wait "$run"; status=$?; done
        if [ -n "$stopped" ] && [ "$status" -ne 0 ]; then
          # Still RUNNING: the time-limit warning (or scancel --batch --signal=TERM): requeue to resume. A job
          # Slurm cancels or requeues itself (scancel, scontrol requeue, preemption) is COMPLETING by now.
          self="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
          if [ "$(squeue -h -j "$self" -o %T 2>/dev/null)" = RUNNING ]; then
            echo "sweep task $task: stopped by SIGTERM at a checkpoint; requeueing $self to resume from it"
            scontrol requeue "$self" || echo "sweep task $task: scontrol requeue failed; run \(Self.shellQuoted(sweepDirectory + "/" + Self.submitFileName)) again to resume"
          else
            echo "sweep task $task: stopped by Slurm (cancelled, requeued or preempted); the run keeps its last checkpoint"
          fi
        fi
        exit "$status"

        """
    }

    /// report.sbatch: summary.csv, diagnostics.json and report.html of the sweep, once its runs have finished.
    public var reportText: String {
        """
        #!/bin/bash
        # MeanField sweep report: summary.csv, limit diagnostics (diagnostics.json) and report.html of
        # \(sweepDirectory). submit.sh runs it after every array task succeeded (--dependency=afterok).
        \(header([jobName + "-report", "--output=\(sweepDirectory)/report-%j.log"]))
        set -euo pipefail
        MEANFIELD="${MEANFIELD:-\(Self.shellQuoted(executable))}"
        "$MEANFIELD" sweep --summarize \(quotedDirectory)
        "$MEANFIELD" diagnose \(quotedDirectory)
        "$MEANFIELD" report \(quotedDirectory)

        """
    }

    /// submit.sh: every array job, then the report job that waits for all of them.
    public var submitText: String {
        let script = Self.shellQuoted(sweepDirectory + "/" + Self.scriptFileName)
        let split = chunks.count > 1
        let submissions = chunks.map { chunk -> String in
            guard split else { return "submit \"$@\" \(script)" }
            let log = Self.shellQuoted("\(sweepDirectory)/runs/%x-%A_%a+\(chunk.lowerBound).log")
            return "submit \"$@\" --array=0-\(chunk.count - 1)%\(min(parallel, chunk.count)) --export=ALL,\(Self.offsetVariable)=\(chunk.lowerBound) --output=\(log) \(script)"
        }
        return """
        #!/bin/bash
        # Submits the \(count) runs of \(sweepDirectory) (\(chunks.count) array job\(split ? "s: MaxArraySize \(maxArraySize)" : "")) and the
        # report job, which runs when every array task has succeeded (afterok). Arguments are passed to every
        # sbatch (e.g. --partition=debug). Running it again resumes: finished runs are skipped.
        set -euo pipefail
        arrays=()
        submit() { local id; id="$(sbatch --parsable "$@")"; arrays+=("${id%%;*}"); }
        \(submissions.joined(separator: "\n"))
        ids="$(IFS=:; echo "${arrays[*]}")"
        report="$(sbatch --parsable "$@" --dependency=afterok:"$ids" --kill-on-invalid-dep=yes \(Self.shellQuoted(sweepDirectory + "/" + Self.reportScriptFileName)))"
        echo "array job${arrays[1]:+s} ${arrays[*]} (\(count) tasks), report job ${report%%;*}: squeue -j ${ids//:/,},${report%%;*}"

        """
    }

    /// runs.txt: one line of `meanfield train` arguments per run, in array-task order.
    public static func runsFile(_ arguments: [[String]]) -> String {
        arguments.map { $0.map(shellQuoted).joined(separator: " ") }.joined(separator: "\n") + "\n"
    }

    /// A job name Slurm and file names accept: `meanfield-<folder name>` (the folder name alone
    /// when it already starts with "meanfield").
    public static func jobName(forDirectory directory: String) -> String {
        let folder = SweepGrid.safeName(URL(fileURLWithPath: directory).lastPathComponent)
        return folder.hasPrefix("meanfield") ? folder : "meanfield-" + folder
    }

    /// Writes sweep.json, runs.txt, sweep.sbatch, report.sbatch and submit.sh into
    /// `runner.directory` (and creates `runs/`, where Slurm writes the task logs) and returns the
    /// scripts. `maxArraySize` nil: the site's (``SlurmSite/maxArraySize()``), else Slurm's default.
    @discardableResult
    public static func emit(runner: SweepRunner, parallel: Int?, resources: SlurmResources = .none, maxArraySize: Int? = nil, ranksPerRun: Int = 1,
                            workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> SlurmScript {
        let directory = runner.directory
        let runs = runner.manifest.runs
        do { try FileManager.default.createDirectory(atPath: directory + "/runs", withIntermediateDirectories: true) } catch {
            throw RunError("cannot create \(directory)/runs: \(error.localizedDescription); pass a writable --out")
        }
        try runner.manifest.checkCompatible(withExistingIn: directory)
        try runner.manifest.write(to: directory)
        var script = SlurmScript(jobName: jobName(forDirectory: directory), count: runs.count, parallel: min(runs.count, parallel ?? runs.count),
                                 cpusPerTask: runner.threadsPerRun, sweepDirectory: directory, executable: runner.executable,
                                 workingDirectory: SweepRunner.absolutePath(workingDirectory), resources: resources,
                                 maxArraySize: maxArraySize ?? SlurmSite.maxArraySize() ?? SlurmSite.defaultMaxArraySize)
        script.ranksPerRun = ranksPerRun
        let files = [(runsFileName, runsFile(runs.map(runner.trainArguments)), false), (scriptFileName, script.text, true),
                     (reportScriptFileName, script.reportText, true), (submitFileName, script.submitText, true)]
        do {
            for (name, text, executable) in files {
                let path = directory + "/" + name
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
            }
        } catch {
            throw RunError("cannot write the Slurm files in \(directory): \(error.localizedDescription)")
        }
        return script
    }
}
