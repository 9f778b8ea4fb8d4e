import ArgumentParser
import Foundation
import MeanField

/// `meanfield experiment`: the experiments E1–E8 of theory §6 as commands. Their protocols are
/// declared in the library (Sources/MeanField/Experiments/Catalog/), run by ``ExperimentRunner``.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "List or run the experiments E1–E8 of theory §6 (sweeps, diagnostics, reports).",
        subcommands: [List.self, Run.self])

    /// `meanfield experiment list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name E1–E8: what each shows, its claim, its time with --quick and --full.")

        func run() throws {
            for experiment in Experiment.all {
                print("\(experiment.id)  \(experiment.title)  [\(experiment.claim)]")
                for line in TrainKeys.wrap(experiment.shows, width: 96) { print("    " + line) }
                print("    time: --quick \(experiment.quickTime), --full \(experiment.fullTime) (2 cores)")
                print("    figure: OUT/\(experiment.figure)")
            }
            print("\n--quick times: measured 2026-12-02 (release build, --parallel 2) on 2 cores shared with other jobs (load ≈ 18), so upper bounds.")
            print("Run one: meanfield experiment run E2 --quick --out runs/e2   (the width study; report: runs/e2/report.html)")
        }
    }

    /// `meanfield experiment run NAME [--quick | --full] --out DIR [--parallel N]`.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an experiment: its sweeps or runs, the limit diagnostics and a report per folder.",
            discussion: """
            --quick (the default) runs a small version in minutes on 2 cores; --full runs the setting behind the numbers in \
            docs/experiments.md. Running the same command again continues: finished runs are skipped, interrupted ones resumed.
            Examples:
              meanfield experiment run E2 --quick --out runs/e2
              meanfield experiment run E1 --full --out runs/e1 --parallel 2
            """)

        @Argument(help: "E1 … E8 (meanfield experiment list).") var name: String
        @Flag(help: "The small version (default).") var quick = false
        @Flag(help: "The documented setting.") var full = false
        @Option(help: "The experiment's folder (required).") var out: String?
        @Option(help: "Runs at a time in a sweep (one thread each), threads of a single run (default 2).") var parallel = 2
        @Flag(help: "Print the commands it would run, without running anything.") var dryRun = false

        func validate() throws {
            if quick && full { throw ValidationError("--quick and --full exclude each other; pass one") }
            // The sweep's bound: each run at a time is a process.
            if !(1...SweepGrid.maximumRuns).contains(parallel) {
                throw ValidationError("--parallel: expected an integer in 1...\(SweepGrid.maximumRuns) (runs at a time, each a process), got \(parallel)")
            }
            if out == nil { throw ValidationError("--out DIR is required: the experiment's folder (e.g. --out runs/\(name.lowercased()))") }
        }

        func run() throws {
            let experiment = try Experiment.named(name)
            try InputPath.checkFolder(out!, flag: "--out")
            let runner = ExperimentRunner(experiment: experiment, setting: full ? .full : .quick, out: out!, parallel: parallel,
                                          executable: SweepRunner.currentExecutable())
            runner.say("\(experiment.id) (\(runner.setting.rawValue), about \(runner.setting == .full ? experiment.fullTime : experiment.quickTime) on 2 cores): \(experiment.title) [\(experiment.claim)]")
            if dryRun {
                for line in runner.plan() { runner.say(line) }
                return
            }
            try runner.run()
        }
    }
}
