import Foundation

/// `meanfield sweep … --emit slurm`: the same grid as a Slurm job array, one array task per run,
/// results in the same layout as a local sweep (`DIR/runs/<name>/`). Writes:
/// - `DIR/sweep.json` (``SweepManifest``);
/// - `DIR/runs.txt`: line i (0-based) = the `meanfield train` arguments of run i, shell-quoted;
/// - `DIR/sweep.sbatch`: the job script, `#SBATCH --array=0-(n−1)%P`, `--cpus-per-task=T`,
///   `--output=DIR/runs/%x-%A_%a.log`; each task runs `meanfield sweep --array-task $SLURM_ARRAY_TASK_ID
///   --out DIR`, which runs line i of runs.txt, skipping a finished run and resuming an interrupted one.
///
/// After the array: `meanfield sweep --summarize DIR` writes `DIR/summary.csv` (docs/cluster.md).
public struct SlurmScript: Sendable, Equatable {
    public var jobName: String
    /// Number of runs n: array tasks 0 … n−1.
    public var count: Int
    /// At most this many tasks at a time (`%P`).
    public var parallel: Int
    /// Cores per task (each run gets `--threads` this).
    public var cpusPerTask: Int
    /// Absolute path of the sweep folder.
    public var sweepDirectory: String
    /// Absolute path of the `meanfield` binary on the cluster's shared filesystem.
    public var executable: String
    /// Folder the tasks run in (relative paths in the flags are relative to it).
    public var workingDirectory: String

    public init(jobName: String, count: Int, parallel: Int, cpusPerTask: Int, sweepDirectory: String, executable: String, workingDirectory: String) {
        self.jobName = jobName
        self.count = count
        self.parallel = parallel
        self.cpusPerTask = cpusPerTask
        self.sweepDirectory = sweepDirectory
        self.executable = executable
        self.workingDirectory = workingDirectory
    }

    public static let scriptFileName = "sweep.sbatch"
    public static let runsFileName = "runs.txt"

    /// The job script.
    public var text: String {
        """
        #!/bin/bash
        # MeanField sweep: \(count) runs of `meanfield train`, one Slurm array task each (docs/cluster.md).
        # Written by `meanfield sweep … --emit slurm`. Submit:  sbatch \(Self.shellQuoted(sweepDirectory + "/" + Self.scriptFileName))
        # Task i runs line i (0-based) of runs.txt into \(sweepDirectory)/runs/<name>/: a finished run is
        # skipped, an interrupted one (checkpoint, no summary) continues with --resume, so resubmitting
        # the script (or one task: sbatch --array=i) completes the sweep. Then:
        #   meanfield sweep --summarize \(Self.shellQuoted(sweepDirectory))   # writes summary.csv
        #SBATCH --job-name=\(jobName)
        #SBATCH --array=0-\(count - 1)%\(parallel)
        #SBATCH --ntasks=1
        #SBATCH --cpus-per-task=\(cpusPerTask)
        #SBATCH --output=\(sweepDirectory)/runs/%x-%A_%a.log
        #SBATCH --chdir=\(workingDirectory)
        set -euo pipefail
        : "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}"
        MEANFIELD="${MEANFIELD:-\(Self.shellQuoted(executable))}"
        exec "$MEANFIELD" sweep --array-task "$SLURM_ARRAY_TASK_ID" --out \(Self.shellQuoted(sweepDirectory))

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

    /// Writes sweep.json, runs.txt and sweep.sbatch into `runner.directory` (and creates `runs/`,
    /// where Slurm writes the task logs) and returns the script's path.
    @discardableResult
    public static func emit(runner: SweepRunner, parallel: Int?, workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> String {
        let directory = runner.directory
        let runs = runner.manifest.runs
        do { try FileManager.default.createDirectory(atPath: directory + "/runs", withIntermediateDirectories: true) } catch {
            throw RunError("cannot create \(directory)/runs: \(error.localizedDescription); pass a writable --out")
        }
        try runner.manifest.checkCompatible(withExistingIn: directory)
        try runner.manifest.write(to: directory)
        let script = SlurmScript(jobName: jobName(forDirectory: directory), count: runs.count, parallel: min(runs.count, parallel ?? runs.count),
                                 cpusPerTask: runner.threadsPerRun, sweepDirectory: directory, executable: runner.executable,
                                 workingDirectory: SweepRunner.absolutePath(workingDirectory))
        let path = directory + "/" + scriptFileName
        do {
            try Data(runsFile(runs.map(runner.trainArguments)).utf8).write(to: URL(fileURLWithPath: directory + "/" + runsFileName), options: .atomic)
            try Data(script.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        } catch {
            throw RunError("cannot write the Slurm files in \(directory): \(error.localizedDescription)")
        }
        return path
    }

    // MARK: Shell words

    /// `text` quoted for a POSIX shell: as it is when it is only safe characters, else in single quotes.
    public static func shellQuoted(_ text: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=+,:@%")
        if !text.isEmpty, text.unicodeScalars.allSatisfy(safe.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Splits a line as a POSIX shell would (whitespace, single quotes, double quotes, backslash),
    /// without expansions: the inverse of joining ``shellQuoted(_:)`` words with spaces.
    public static func shellWords(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = Array(line).makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let inner = iterator.next() {
                    if inner == "'" { closed = true; break }
                    current.append(inner)
                }
                if !closed { throw RunError("unterminated ' in: \(line)") }
            case "\"":
                inWord = true
                var closed = false
                while let inner = iterator.next() {
                    if inner == "\"" { closed = true; break }
                    if inner == "\\", let escaped = iterator.next() {
                        if !"\"\\$`".contains(escaped) { current.append("\\") }
                        current.append(escaped)
                    } else {
                        current.append(inner)
                    }
                }
                if !closed { throw RunError("unterminated \" in: \(line)") }
            case "\\":
                inWord = true
                if let escaped = iterator.next() { current.append(escaped) }
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
