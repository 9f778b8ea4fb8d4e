import CMeanFieldSupport
import Foundation

/// Runs the runs of a sweep as child processes of the `meanfield` binary
/// (`meanfield train … --out DIR/runs/<name> --threads T`), at most `parallel` at a time.
///
/// Layout of the sweep folder `DIR`:
/// - `sweep.json`: the grid and every run's flags (``SweepManifest``), written first;
/// - `runs/<name>/`: each run's own folder (config.json, metrics.jsonl, checkpoints/, summary.json);
/// - `runs/<name>.log`: its standard output and error (appended to when it is resumed);
/// - `summary.csv`: the final numbers of every run (``SweepSummary``), written at the end.
///
/// Resumable: a run whose summary.json says completed (or diverged) is skipped, one with a
/// checkpoint but no summary continues with `meanfield train --resume`, any other starts anew. A
/// run that fails is recorded (status `failed` in summary.csv, the reason on the console) and the
/// others go on. One writer per folder (``RunLock``): the sweep folder's and every run folder's.
public struct SweepRunner {
    public var manifest: SweepManifest
    /// The sweep folder (made absolute).
    public var directory: String
    /// The `meanfield` binary the runs execute.
    public var executable: String
    public var threadsPerRun: Int
    public var parallel: Int
    /// Seconds a stopped sweep waits for its runs to checkpoint and exit before killing them.
    public var stopTimeout: TimeInterval = 60
    /// Seconds the sweep waits for a run whose folder another process holds before giving up on it.
    public var busyTimeout: TimeInterval = 120

    public init(manifest: SweepManifest, directory: String, executable: String, threadsPerRun: Int, parallel: Int) {
        self.manifest = manifest
        self.directory = Self.absolutePath(directory)
        self.executable = executable
        self.threadsPerRun = threadsPerRun
        self.parallel = max(1, parallel)
    }

    /// What a sweep did: each run's folder (in grid order) and final status.
    public struct Outcome: Sendable {
        /// `DIR/runs/<name>` of every run, in the order of sweep.json: the input of the limit diagnostics.
        public var runDirectories: [String]
        /// Status of each run by name: completed, diverged, failed, … (as in summary.csv).
        public var statuses: [String: String]
        /// Runs that did not complete (failed or diverged), in order.
        public var failed: [String]
        /// Runs skipped because an earlier sweep finished them.
        public var skipped: [String]
    }

    /// Default number of runs at a time: the cores divided by the threads of each run (at least 1).
    public static func defaultParallel(threadsPerRun: Int) -> Int {
        max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, threadsPerRun))
    }

    /// The running binary (Linux: /proc/self/exe; elsewhere the first argument, made absolute).
    public static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return absolutePath(CommandLine.arguments[0])
    }

    static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)).standardizedFileURL.path
    }

    /// `DIR/runs/<name>` of a run.
    public func runDirectory(_ run: SweepRun) -> String { directory + "/runs/" + run.name }

    /// The `meanfield train` arguments of a fresh run (without the word `train`).
    public func trainArguments(_ run: SweepRun) -> [String] {
        SweepGrid.trainArguments(run.flags + run.droppedRecord) + ["--out", runDirectory(run), "--threads", String(threadsPerRun)]
    }

    /// The `meanfield train` arguments that continue an interrupted run: `--resume` accepts only
    /// the keys that may change (``TrainKeys/changeableOnResume``: length, threads, cadence); the
    /// threads are the runner's.
    public static func resumeArguments(flags: [SweepFlag], directory: String, threads: String?) -> [String] {
        ["--resume", directory] + SweepGrid.trainArguments(flags.filter { TrainKeys.isChangeableOnResume($0.flag) && $0.flag != "threads" })
            + (threads.map { ["--threads", $0] } ?? [])
    }

    /// What the sweep will do with `run` now: skip it, resume it, or start it; and the arguments.
    public func plan(_ run: SweepRun) -> (state: SweepRunState, arguments: [String]?) {
        let folder = runDirectory(run)
        let state = SweepRunState.inspect(folder)
        switch state {
        case .finished: return (state, nil)
        case .interrupted: return (state, ["train"] + Self.resumeArguments(flags: run.flags, directory: folder, threads: String(threadsPerRun)))
        case .notStarted: return (state, ["train"] + trainArguments(run))
        }
    }

    /// Runs every run that is not finished (`DIR/sweep.json` must be written first, see
    /// ``SweepManifest/write(to:)``), then writes `DIR/summary.csv`. `report` receives the
    /// console lines (run failures, the progress line). Returns the outcome; throws when the sweep
    /// folder cannot be written or is in use by another sweep, and ``RunInterrupted`` when a signal
    /// stopped the sweep.
    ///
    /// One sweep per folder: `DIR/.lock` (``RunLock``) is held until the sweep ends (pass `lock` when
    /// the caller took it before writing sweep.json). Each run's own folder is locked by its
    /// `meanfield train`: a run whose folder another process still writes (a run of a killed sweep
    /// that is stopping, or a train started by hand) is not started a second time; the sweep waits
    /// for it up to ``busyTimeout`` seconds, then reports it and leaves it for the next rerun.
    ///
    /// The runs end with the sweep: they are started with ``ProcessSetup/parentPIDVariable`` (on
    /// Linux they get SIGTERM when the sweep's process ends, however it ends); SIGINT, SIGTERM or
    /// SIGHUP sends each run one SIGTERM (it checkpoints and stops), waits up to ``stopTimeout``
    /// seconds for them (then SIGKILL), writes summary.csv and throws; a second signal forwards
    /// SIGTERM to the runs and exits at once (``StopRequest``). Call it from the main thread: on
    /// Linux the parent-death signal follows the thread that started the run.
    public func run(lock: RunLock? = nil, report: @escaping (String) -> Void = { try? FileHandle.standardError.write(contentsOf: Data(($0 + "\n").utf8)) }) throws -> Outcome {
        let sweepLock = try lock ?? RunLock.acquire(directory: directory, purpose: "meanfield sweep")
        defer { withExtendedLifetime(sweepLock) {} }
        let runsFolder = directory + "/runs"
        do { try FileManager.default.createDirectory(atPath: runsFolder, withIntermediateDirectories: true) } catch {
            throw RunError("cannot create \(runsFolder): \(error.localizedDescription); pass a writable --out")
        }
        var statuses: [String: String] = [:]
        var failed: [String] = [], skipped: [String] = []
        var pending: [SweepRun] = []
        /// A run an earlier sweep (or another process) finished: skipped, and failed unless it completed.
        func skip(_ run: SweepRun, status: String) {
            statuses[run.name] = status
            skipped.append(run.name)
            if status != "completed" { failed.append(run.name) }
        }
        for run in manifest.runs {
            if case .finished(let status) = SweepRunState.inspect(runDirectory(run)) {
                skip(run, status: status)
            } else {
                pending.append(run)
            }
        }
        let total = manifest.runs.count
        var done = skipped.count
        let progress = SweepProgress(total: total, alreadyDone: done, report: report)
        if !skipped.isEmpty { progress.say("sweep: \(skipped.count) of \(total) runs already finished (skipped)") }
        progress.show(done: done, running: 0, failed: failed.count, force: true)
        let stop = StopRequest(signals: [SIGINT, SIGTERM, SIGHUP], forwardingToChildren: true)
        defer { withExtendedLifetime(stop) {} }

        var running: [(run: SweepRun, process: Process, log: FileHandle)] = []
        /// Runs whose folder another process holds: since when, and who.
        var busySince: [String: Date] = [:]
        while !pending.isEmpty || !running.isEmpty {
            if let signal = stop.signal {
                // Stopped: each run gets one SIGTERM (it checkpoints and exits), the sweep waits for them
                // (bounded), records where they stand, and leaves.
                for job in running where job.process.isRunning { job.process.terminate() }
                let deadline = Date().addingTimeInterval(stopTimeout)
                while running.contains(where: { $0.process.isRunning }) && Date() < deadline { usleep(20_000) }
                for job in running where job.process.isRunning {
                    kill(job.process.processIdentifier, SIGKILL)
                    progress.say("sweep: run \(job.run.name) did not stop within \(Int(stopTimeout)) s; killed (its last checkpoint stays)")
                }
                for job in running {
                    job.process.waitUntilExit()
                    mf_children_remove(job.process.processIdentifier)
                    try? job.log.close()
                }
                progress.finish()
                try SweepSummary.write(directory: directory, manifest: manifest, statuses: statuses)
                let count = running.count
                throw RunInterrupted(signal: signal, message: "interrupted by \(StopRequest.name(of: signal)): \(count) running run\(count == 1 ? "" : "s") stopped, \(done) of \(total) done; run the same command again to resume")
            }
            var index = 0
            while running.count < parallel && index < pending.count {
                let run = pending[index]
                if let holder = RunLock.holder(of: runDirectory(run)) {
                    let now = Date()
                    if let since = busySince[run.name] {
                        if now.timeIntervalSince(since) > busyTimeout {
                            pending.remove(at: index)
                            failed.append(run.name)
                            done += 1
                            progress.say("sweep: run \(run.name) not started: \(runDirectory(run)) is still in use by \(holder) after \(Int(busyTimeout)) s; run the sweep again once it has ended")
                            continue
                        }
                    } else {
                        busySince[run.name] = now
                        progress.say("sweep: run \(run.name): \(runDirectory(run)) is in use by \(holder); waiting for it to end")
                    }
                    index += 1
                    continue
                }
                pending.remove(at: index)
                // Planned now, after any other writer has let go of the folder.
                let (state, arguments) = plan(run)
                guard let arguments else {
                    if case .finished(let status) = state { skip(run, status: status) }
                    done += 1
                    continue
                }
                do {
                    let (process, log) = try launch(run, arguments: arguments, resuming: state == .interrupted)
                    running.append((run, process, log))
                } catch {
                    statuses[run.name] = "failed"
                    failed.append(run.name)
                    done += 1
                    progress.say("sweep: run \(run.name) failed to start: \(error)")
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
            index = 0
            while index < running.count {
                let job = running[index]
                if job.process.isRunning {
                    index += 1
                    continue
                }
                running.remove(at: index)
                mf_children_remove(job.process.processIdentifier)
                try? job.log.close()
                done += 1
                let exit = job.process.terminationStatus
                let state = SweepRunState.inspect(runDirectory(job.run))
                if exit == 0, state == .finished(status: "completed") {
                    statuses[job.run.name] = "completed"
                } else {
                    let status: String
                    if case .finished(let final) = state { status = final } else { status = "failed" }
                    statuses[job.run.name] = status
                    failed.append(job.run.name)
                    let reason = Self.lastLine(ofFile: logPath(job.run)) ?? "no output"
                    let how = job.process.terminationReason == .uncaughtSignal ? "killed by signal \(exit)" : "exit status \(exit)"
                    progress.say("sweep: run \(job.run.name) \(status) (\(how)): \(reason) [log: \(logPath(job.run))]")
                }
                progress.show(done: done, running: running.count, failed: failed.count, force: true)
            }
            progress.show(done: done, running: running.count, failed: failed.count, force: false)
        }
        progress.finish()
        try SweepSummary.write(directory: directory, manifest: manifest, statuses: statuses)
        let order = manifest.runs.map(\.name)
        return Outcome(runDirectories: manifest.runs.map(runDirectory), statuses: statuses,
                       failed: order.filter(failed.contains), skipped: order.filter(skipped.contains))
    }

    /// `DIR/runs/<name>.log`.
    public func logPath(_ run: SweepRun) -> String { directory + "/runs/" + run.name + ".log" }

    /// Starts one run with its output in its log (truncated for a fresh run, appended to when resuming).
    func launch(_ run: SweepRun, arguments: [String], resuming: Bool) throws -> (Process, FileHandle) {
        let path = logPath(run)
        if !resuming || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw RunError("cannot create \(path)") }
        }
        guard let log = FileHandle(forWritingAtPath: path) else { throw RunError("cannot write \(path)") }
        log.seekToEndOfFile()
        log.write(Data(("# " + ([executable] + arguments).map(SlurmScript.shellQuoted).joined(separator: " ") + "\n").utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        // The run ends with this process (ProcessSetup.endWithParent).
        var environment = ProcessInfo.processInfo.environment
        environment[ProcessSetup.parentPIDVariable] = String(getpid())
        process.environment = environment
        do { try process.run() } catch {
            try? log.close()
            throw RunError("cannot run \(executable): \(error.localizedDescription)")
        }
        _ = mf_children_add(process.processIdentifier)
        return (process, log)
    }

    /// The last non-empty line of a text file (a failed run's error message), without "Error: ".
    static func lastLine(ofFile path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return line.map { String($0.hasPrefix("Error: ") ? $0.dropFirst(7) : $0) }
    }

    // MARK: One run of a Slurm job array

    /// What task `index` of a Slurm job array does (line `index`, 0-based, of `DIR/runs.txt`).
    public enum ArrayTask: Equatable, Sendable {
        /// The run is finished with this status: nothing to do (the task succeeds when it completed).
        case finished(status: String)
        /// Run `meanfield` with these arguments (`train …`, or `train --resume …`).
        case run(arguments: [String])
    }

    /// Plans line `index` of `DIR/runs.txt` as one task of a Slurm job array: skip it when
    /// finished, resume it when interrupted, else start it; `threads` (the allocation's
    /// `SLURM_CPUS_PER_TASK`) replaces the line's `--threads` when given. `report` gets one line
    /// saying which; the caller then replaces itself with `meanfield` and these arguments, so
    /// that a SIGTERM to the task reaches the run (which checkpoints and stops).
    /// `ranks` > 1: the run is one job of that many processes, particle-parallel when the grid gives
    /// `--distributed particle` and the run has at least `ranks` heads and units per layer (so the
    /// narrow runs of a width study run data-parallel and its wide coupled references particle-parallel),
    /// else data-parallel (the caller starts it under mpirun); `ranks` 1 drops `--distributed`.
    public static func arrayTask(index: Int, directory: String, threads: Int? = nil, ranks: Int = 1,
                                 report: (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) throws -> ArrayTask {
        let path = directory + "/" + SlurmScript.runsFileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError("\(path): cannot read it; write it with meanfield sweep … --emit slurm --out \(directory)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.indices.contains(index) else { throw RunError("--array-task \(index): \(path) has \(lines.count) runs (0 … \(lines.count - 1))") }
        let flags = try SweepGrid.parseFlags(SlurmScript.shellWords(String(lines[index])))
        guard let out = flags.first(where: { $0.flag == "out" })?.value else { throw RunError("\(path) line \(index + 1): no --out") }
        let threads = threads.map(String.init) ?? flags.first(where: { $0.flag == "threads" })?.value
        let runFlags = flags.filter { $0.flag != "out" && $0.flag != "threads" && $0.flag != "distributed" }
        var mode = flags.last(where: { $0.flag == "distributed" })?.value == "particle" ? "particle" : "data"
        if ranks > 1, mode == "particle",
           let model = try? TrainInvocation(settings: runFlags.map { ($0.flag, $0.value) }).resolve(defaultThreads: 1).transformer,
           model.heads < ranks || (model.ffnUnits > 0 && model.ffnUnits < ranks) {
            report("sweep task \(index): M = \(model.heads) heads and M′ = \(model.ffnUnits) units per layer cannot be split over \(ranks) processes; "
                   + "this run is data-parallel")
            mode = "data"
        }
        let distributed = ranks > 1 ? ["--distributed", mode] : []
        switch SweepRunState.inspect(out) {
        case .finished(let status):
            report("sweep task \(index): \(out) is already finished (\(status)); nothing to do")
            return .finished(status: status)
        case .interrupted:
            report("sweep task \(index): resuming \(out)")
            return .run(arguments: ["train"] + resumeArguments(flags: runFlags, directory: out, threads: threads) + distributed)
        case .notStarted:
            let arguments = SweepGrid.trainArguments(runFlags) + ["--out", out] + (threads.map { ["--threads", $0] } ?? []) + distributed
            report("sweep task \(index): meanfield train " + arguments.map(SlurmScript.shellQuoted).joined(separator: " "))
            return .run(arguments: ["train"] + arguments)
        }
    }
}

/// The sweep's progress line on standard error: runs done of total, running, failed, rate and
/// ETA (from this session's finished runs). On a terminal it redraws one line; otherwise it
/// prints when a run ends and at most every 30 s.
final class SweepProgress {
    /// Prints a line of its own (a failure, a note), clearing a progress line being redrawn.
    func say(_ line: String) {
        if interactive { try? FileHandle.standardError.write(contentsOf: Data("\r\u{1B}[K".utf8)) }
        report(line)
    }

    private let total: Int
    private let alreadyDone: Int
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0
    private let report: (String) -> Void

    init(total: Int, alreadyDone: Int, report: @escaping (String) -> Void) {
        self.total = total
        self.alreadyDone = alreadyDone
        self.report = report
    }

    func show(done: Int, running: Int, failed: Int, force: Bool) {
        let now = Date()
        let interval: TimeInterval = interactive ? 1 : 30
        guard force || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let finishedNow = done - alreadyDone
        let perMinute = Double(finishedNow) / max(elapsed, 1e-9) * 60
        let eta = finishedNow > 0 ? ProgressLine.clock(Double(total - done) / (perMinute / 60)) : "?"
        let line = "sweep: \(done)/\(total) runs done, \(running) running, \(failed) failed  "
            + String(format: "%.2f runs/min", perMinute) + "  elapsed \(ProgressLine.clock(elapsed))  ETA \(eta)"
        if interactive {
            try? FileHandle.standardError.write(contentsOf: Data(("\r\u{1B}[K" + line).utf8))
        } else {
            report(line)
        }
    }

    func finish() {
        if interactive { try? FileHandle.standardError.write(contentsOf: Data("\n".utf8)) }
    }
}
