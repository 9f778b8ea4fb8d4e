// `meanfield experiment` end to end through the real binary: E6's quick protocol (an NTK check,
// seconds), a small sweep-and-run experiment through ExperimentRunner (reports written, a second
// run skips what finished), --dry-run of E3's full protocol, and — only with
// MEANFIELD_QUICK_EXPERIMENTS=1, since together they take about ten minutes on 2 cores in a release
// build — every experiment's --quick protocol.
import Foundation
import MeanField
import Testing

@Suite(.serialized, .enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct ExperimentRunTests {
    private func folder(_ name: String) -> String { NSTemporaryDirectory() + "meanfield-experiment-\(name)-\(getpid())" }

    @Test func e6QuickRunsTheCheckWritesItsReportAndSkipsItTheSecondTime() throws {
        let out = folder("e6")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let first = try meanfield(["experiment", "run", "E6", "--quick", "--out", out])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("step 1/1: meanfield ntk-check --family all --sets 50 --seed 0 --out \(out)"), "\(first.output)")
        #expect(first.output.contains("report: \(out)/report.html") && first.output.contains("E6 (quick) finished"), "\(first.output)")
        #expect(FileManager.default.fileExists(atPath: out + "/report.html"))
        #expect(NTKCheckReport.isNTKCheck(out))
        let second = try meanfield(["experiment", "run", "e6", "--out", out])
        #expect(second.status == 0 && second.output.contains("finished before; skipped"), "\(second.output)")
    }

    @Test func aSweepAndASingleRunAreRunReportedAndNotRepeated() throws {
        let out = folder("tiny")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let tiny = "--task icl-regression --train-size 8 --eval-size 8 --ffn-units 2 --layers 1 --steps 10 --log-every 5 --checkpoint-every 5"
        let experiment = Experiment(
            id: "E0", title: "tiny", claim: "none", shows: "nothing", figure: "width/report.html", result: "none", quickTime: "s", fullTime: "s",
            quick: [.sweep("width", tiny + " --heads 1,2"), .train("single", tiny + " --heads 2")], full: [.train("single", tiny)])
        let runner = ExperimentRunner(experiment: experiment, setting: .quick, out: out, parallel: 2, executable: meanfieldBinary!)
        let lines = try runner.run()
        #expect(lines.first?.hasPrefix("E0 (quick) finished in") == true && lines.contains("  figure: \(out)/width/report.html"), "\(lines)")
        for path in ["width/report.html", "single/report.html"] { #expect(FileManager.default.fileExists(atPath: out + "/" + path), "\(path)") }
        // Each step's figures on their own, indexed, and named in the summary.
        for step in ["width", "single"] {
            let folder = "\(out)/\(step)/\(ExperimentRunner.figuresFolder)"
            let index = (try? String(contentsOfFile: folder + "/" + FigureExport.indexFile, encoding: .utf8)) ?? ""
            let rows = index.split(separator: "\n").dropFirst()
            #expect(!rows.isEmpty, "\(step): no figures indexed")
            for row in rows {
                let stem = String(row.split(separator: ",")[1])
                for format in ["svg", "csv"] { #expect(FileManager.default.fileExists(atPath: "\(folder)/\(stem).\(format)"), "\(stem).\(format)") }
            }
            #expect(lines.contains { $0.hasPrefix("  figures for a paper: \(folder)/") }, "\(lines)")
        }
        #expect(SweepRunState.inspect(out + "/single") == .finished(status: "completed"))
        #expect(SweepRunState.inspect(out + "/width/runs/heads-2") == .finished(status: "completed"))
        // The sweep's quick diagnostics measure on the quick sample; the finished run is skipped next time.
        let plan = runner.plan()
        #expect(plan[0].contains("--diagnose-eval-size \(ExperimentRunner.quickDiagnosticsSamples)") && plan[1] == "skip \(out)/single (finished)", "\(plan)")
    }

    @Test func dryRunPrintsE3sFullProtocolWithoutRunningIt() throws {
        let out = folder("e3")
        let result = try meanfield(["experiment", "run", "E3", "--full", "--dry-run", "--out", out])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("--weight-decay 0.02 --seeds 5 --optimizer euler --lr 0.0005 --steps 1000000 --log-every 10000 --checkpoint-every 500000 --out \(out)/lambda-0.02"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let both = try meanfield(["experiment", "run", "E3", "--full", "--quick", "--out", out])
        #expect(both.status != 0 && both.output.contains("--quick and --full exclude each other"), "\(both.output)")
    }

    /// Every --quick protocol, as CI with time to spare runs them (MEANFIELD_QUICK_EXPERIMENTS=1).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MEANFIELD_QUICK_EXPERIMENTS"] == "1"))
    func everyQuickProtocolRunsToItsReport() throws {
        for experiment in Experiment.all {
            let out = folder("quick-\(experiment.id)")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let result = try meanfield(["experiment", "run", experiment.id, "--quick", "--out", out])
            #expect(result.status == 0 && result.output.contains("\(experiment.id) (quick) finished"), "\(experiment.id): \(result.output.suffix(2000))")
            for step in experiment.quick {
                #expect(FileManager.default.fileExists(atPath: step.path(in: out) + "/report.html"), "\(experiment.id) \(step.folder)")
                #expect(FileManager.default.fileExists(atPath: step.path(in: out) + "/\(ExperimentRunner.figuresFolder)/\(FigureExport.indexFile)"),
                        "\(experiment.id) \(step.folder): no figures")
            }
        }
    }
}
