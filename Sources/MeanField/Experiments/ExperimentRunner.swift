import Foundation

/// Runs an ``Experiment``'s protocol (`meanfield experiment run`): each step as a child process of
/// the `meanfield` executable, in order, its output passed through; a report of every step's
/// folder (``ReportBuilder``) with its figures on their own in `STEP/figures` (``FigureExport``:
/// SVG, PNG, PDF and the plotted data as CSV); then the experiment's own fit (E3's slope) and a summary naming the
/// report, the figure and the width fits of the diagnostics. Running it again continues: a sweep
/// skips its finished runs and resumes interrupted ones, a finished single run or check is skipped.
public struct ExperimentRunner: Sendable {
    public let experiment: Experiment
    public let setting: Experiment.Setting
    /// The experiment's folder; every step writes under it.
    public let out: String
    /// Runs at a time in a sweep (one thread each); threads of a single run or check.
    public let parallel: Int
    /// The `meanfield` binary the steps run.
    public let executable: String

    /// Samples the limit diagnostics of a quick sweep measure on (the full setting: the default, 1024).
    public static let quickDiagnosticsSamples = 256

    public init(experiment: Experiment, setting: Experiment.Setting, out: String, parallel: Int, executable: String) {
        (self.experiment, self.setting, self.out, self.parallel, self.executable) = (experiment, setting, out, parallel, executable)
    }

    /// The `meanfield` arguments of `step` now: nil when it has finished before (a single run or check).
    public func arguments(_ step: ExperimentStep) -> [String]? {
        let path = step.path(in: out)
        switch step.command {
        case .sweep:
            return ["sweep"] + step.arguments + ["--out", path, "--parallel", String(parallel), "--threads-per-run", "1"]
                + (setting == .quick ? ["--diagnose-eval-size", String(Self.quickDiagnosticsSamples)] : [])
        case .train:
            switch SweepRunState.inspect(path) {
            case .finished: return nil
            case .interrupted: return ["train", "--resume", path, "--threads", String(parallel)]
            case .notStarted: return ["train"] + step.arguments + ["--out", path, "--threads", String(parallel)]
            }
        case .varpro, .ntkCheck, .rffKernel:
            let finished = VarProReport.isVarProRun(path) || NTKCheckReport.isNTKCheck(path) || RFFKernelReport.isRFFKernel(path)
            return finished ? nil : [step.command.rawValue] + step.arguments + ["--out", path]
        }
    }

    /// What `--dry-run` prints: one line per step, the command or why it is skipped.
    public func plan() -> [String] {
        experiment.steps(setting).map { step in
            arguments(step).map { "meanfield " + $0.map(SlurmScript.shellQuoted).joined(separator: " ") }
                ?? "skip \(step.path(in: out)) (finished)"
        }
    }

    /// Runs every step, the reports and the analysis; returns the summary lines (also printed).
    @discardableResult
    public func run() throws -> [String] {
        let started = Date()
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw RunError("--out \(out): cannot create the folder (\(error.localizedDescription)); pass a writable folder")
        }
        let steps = experiment.steps(setting)
        var notes: [String] = [], figureFolders: [String] = []
        for (index, step) in steps.enumerated() {
            let path = step.path(in: out)
            guard let arguments = arguments(step) else {
                say("step \(index + 1)/\(steps.count): \(path) finished before; skipped")
                continue
            }
            say("step \(index + 1)/\(steps.count): meanfield " + arguments.map(SlurmScript.shellQuoted).joined(separator: " "))
            let status = try launch(arguments)
            if status != 0 {
                guard step.mayFail else {
                    throw RunError("\(experiment.id) step \(index + 1) (meanfield \(step.command.rawValue), \(path)) exited with status \(status); "
                                   + "see its output above, then run the same experiment command again to continue")
                }
                notes.append("\(path): some runs did not complete, as expected for this step (see its summary.csv)")
            }
            do {
                let folder = path + "/" + Self.figuresFolder
                let report = try ReportBuilder.write(path: path, figures: folder)
                let exported = report.figures?.stems.count ?? 0
                say("report: \(report.file); \(exported) figure\(exported == 1 ? "" : "s") in \(folder)")
                if exported > 0 { figureFolders.append(folder) }
                notes += report.warnings.map { "\(path): \($0)" }
            } catch {
                notes.append("\(path): no report (\(error))")
            }
        }
        return summary(seconds: Date().timeIntervalSince(started), figureFolders: figureFolders, notes: notes)
    }

    /// The folder inside each step's folder that receives its figures (`report --figures`).
    public static let figuresFolder = "figures"

    /// The closing lines: time, report and figure, the fits, notes.
    func summary(seconds: Double, figureFolders: [String] = [], notes: [String]) -> [String] {
        var lines = [String(format: "\(experiment.id) (\(setting.rawValue)) finished in %.1f min: \(out)", seconds / 60)]
        lines.append("  figure: \(out)/\(experiment.figure)")
        for folder in figureFolders {
            lines.append("  figures for a paper: \(folder)/ (SVG, PNG, PDF; data as CSV; index \(FigureExport.indexFile))")
        }
        lines.append("  shows: \(experiment.shows)")
        for step in experiment.steps(setting) where step.command == .sweep {
            guard let report = try? DiagnosticsReport.read(from: step.path(in: out)) else { continue }
            for fit in report.fits where fit.quantity == "rms_function_distance" {
                guard let verdict = try? fit.decide() else { continue }
                lines.append("  RMS function-space distance vs M (\(fit.family)): \(verdict.text)")
            }
        }
        if experiment.analysis == .weightDecaySlope {
            do {
                var unfinished = 0
                let study = try WeightDecayStudy(points: WeightDecayStudy.points(in: out, unfinished: &unfinished))
                lines += study.description.split(separator: "\n").map { "  " + $0 }
                if unfinished > 0 { lines.append("  (\(unfinished) run\(unfinished == 1 ? "" : "s") not finished, left out)") }
            } catch {
                lines.append("  no slope: \(error)")
            }
            lines.append("  full table, monotonicity and settling: python3 experiments/e3_fit.py \(out)")
        }
        lines += notes.map { "  note: " + $0 }
        lines.append("  documented (full): \(experiment.result)")
        for line in lines { say(line) }
        return lines
    }

    /// Runs `meanfield ARGUMENTS` with this process's output; returns its exit status.
    func launch(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        // Single runs and checks take `parallel` threads; a sweep sets its runs' own.
        environment["MEANFIELD_THREADS"] = String(parallel)
        process.environment = environment
        do { try process.run() } catch {
            throw RunError("cannot run \(executable): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Writes a line to standard output unbuffered, so that it stays in order with the steps' own output.
    public func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}
