// Grids over anything (Sources/MeanField/Sweeps/SweepApplicability.swift): a fixed flag that does
// not apply to some runs of a grid is dropped for them and recorded (sweep.json, config.json's
// dropped_keys); one that applies to no run is refused as `meanfield train` refuses it.
import Foundation
import MeanField
import Testing

/// The message of `body`'s RunError, "no error" when it returns.
private func message(_ body: () throws -> Void) -> String {
    do { try body() } catch let error as RunError { return error.description } catch { return "\(error)" }
    return "no error"
}

private func runner(_ arguments: [String], seeds: Int? = nil) throws -> SweepRunner {
    SweepRunner(manifest: SweepManifest(grid: try SweepGrid.make(arguments: arguments, seeds: seeds)), directory: NSTemporaryDirectory() + "unused-sweep",
                executable: "/bin/false", threadsPerRun: 1, parallel: 1)
}

/// The config `meanfield train` would train for `run` of `runner`.
private func config(_ runner: SweepRunner, _ run: SweepRun) throws -> TrainConfig {
    try TrainInvocation.parse(runner.trainArguments(run)).resolve(defaultThreads: 1)
}

struct SweepApplicabilityTests {
    @Test func aGridOverOptimizersDropsMomentumForTheEulerRuns() throws {
        let sweep = try runner(["--optimizer", "euler,sgd", "--momentum", "0.5", "--steps", "3"], seeds: 2)
        let runs = sweep.manifest.runs
        #expect(runs.map(\.name) == ["optimizer-euler_seed-0", "optimizer-euler_seed-1", "optimizer-sgd_seed-0", "optimizer-sgd_seed-1"])
        // `meanfield train --optimizer euler --momentum 0.5` is refused, as before.
        #expect(message { _ = try TrainInvocation.parse(["--optimizer", "euler", "--momentum", "0.5"]).resolve(defaultThreads: 1) }
                .hasPrefix("--momentum applies to --optimizer sgd (this run uses euler)"))
        #expect(message { try sweep.checkRuns() } == "no error")
        for run in runs {
            let isEuler = run.value(of: "optimizer") == "euler"
            #expect(run.dropped == (isEuler ? [SweepFlag("momentum", "0.5")] : []), "\(run.name)")
            #expect(run.value(of: "momentum") == (isEuler ? nil : "0.5"))
            #expect(run.value(of: "steps") == "3")
            let trained = try config(sweep, run)
            // Euler runs keep the default μ (0.9) and record the dropped value; SGD runs train with 0.5.
            #expect(trained.momentum == (isEuler ? 0.9 : 0.5))
            #expect(trained.droppedKeys == (isEuler ? "momentum=0.5" : ""))
            #expect(trained.optimizer.rawValue == run.value(of: "optimizer"))
        }
        #expect(sweep.manifest.droppedFlagNotes == ["--momentum 0.5 does not apply to 2 of 4 runs (optimizer-euler_seed-0, optimizer-euler_seed-1); dropped for them, recorded in their config.json (dropped_keys)"])
    }

    @Test func aGridOverTasksDropsTheFlagsOfTheOtherTask() throws {
        // --steps and --train-size apply to regression (image runs are given in epochs); --subset
        // to image tasks; --heads to both (a Transformer).
        let sweep = try runner(["--task", "icl-regression,synthetic-images", "--steps", "4", "--train-size", "16", "--subset", "40",
                                "--heads", "2"])
        #expect(message { try sweep.checkRuns() } == "no error")
        let regression = try #require(sweep.manifest.runs.first { $0.name == "task-icl-regression" })
        let images = try #require(sweep.manifest.runs.first { $0.name == "task-synthetic-images" })
        #expect(Set(regression.dropped) == [SweepFlag("subset", "40")])
        #expect(Set(images.dropped) == [SweepFlag("steps", "4"), SweepFlag("train-size", "16")])
        let imageConfig = try config(sweep, images), regressionConfig = try config(sweep, regression)
        #expect(imageConfig.subset == 40 && imageConfig.heads == 2 && imageConfig.epochs == 10)
        #expect(imageConfig.droppedKeys.split(separator: ",").sorted() == ["steps=4", "train-size=16"])
        #expect(regressionConfig.trainSize == 16 && regressionConfig.subset == 0 && regressionConfig.droppedKeys == "subset=40")
        #expect(regressionConfig.steps == 4 && regressionConfig.heads == 2)
    }

    @Test func aFixedFlagThatAppliesToNoRunIsRefusedAsTrainRefusesIt() throws {
        // The default optimizer is not sgd in any run: a misunderstanding, not a grid over optimizers.
        let sweep = try runner(["--heads", "1,2", "--optimizer", "adamw", "--momentum", "0.5", "--steps", "3"])
        #expect(sweep.manifest.runs.allSatisfy { $0.dropped.isEmpty && $0.value(of: "momentum") == "0.5" })
        #expect(message { try sweep.checkRuns() }.hasPrefix("run heads-1: --momentum applies to --optimizer sgd (this run uses adamw)"))
        // An axis value that does not apply is not dropped either.
        let axis = try runner(["--optimizer", "euler,sgd", "--momentum", "0.5,0.8", "--steps", "3"])
        #expect(axis.manifest.runs.allSatisfy { $0.dropped.isEmpty })
        #expect(message { try axis.checkRuns() }.contains("--momentum applies to --optimizer sgd"))
        // The sweep sets --dropped-keys itself.
        #expect(message { _ = try SweepGrid.make(arguments: ["--dropped-keys", "momentum=0.5"]) }.hasPrefix("--dropped-keys cannot be part of a sweep"))
    }

    @Test func sweepJSONKeepsTheDroppedFlags() throws {
        let manifest = try runner(["--optimizer", "euler,sgd", "--momentum", "0.5", "--steps", "3"]).manifest
        #expect(manifest.json.contains(#"{"name": "optimizer-euler", "flags": {"steps": "3", "optimizer": "euler"}, "dropped": {"momentum": "0.5"}}"#), "\(manifest.json)")
        #expect(manifest.json.contains(#"{"name": "optimizer-sgd", "flags": {"momentum": "0.5", "steps": "3", "optimizer": "sgd"}}"#))
        #expect(try SweepManifest.parse(manifest.json, name: "sweep.json") == manifest)
    }

    @Test func theDroppedKeysRecordIsCheckedLikeAnyKey() throws {
        var config = TrainConfig()
        try config.set("dropped-keys", " momentum=0.5, beta1=0.95 ", source: "--dropped-keys")
        #expect(config.droppedKeys == "momentum=0.5,beta1=0.95" && config.text(of: "dropped-keys") == "momentum=0.5,beta1=0.95")
        try config.set("dropped-keys", "none", source: "--dropped-keys")
        #expect(config.droppedKeys == "" && config.text(of: "dropped-keys") == "none")
        for bad in ["colour=red", "momentum", "momentum=", "dropped-keys=x"] {
            #expect(message { try config.set("dropped-keys", bad, source: "--dropped-keys") }.hasPrefix("--dropped-keys: expected key=value pairs"), "\(bad)")
        }
    }
}

@Suite(.enabled(if: meanfieldBinary != nil, "no meanfield binary next to the test bundle (run swift build --build-tests first, or set MEANFIELD_BINARY)"))
struct SweepApplicabilityEndToEndTests {
    @Test func aSweepOverOptimizersWithAFixedMomentumRunsAndRecordsTheDrop() throws {
        let folder = NSTemporaryDirectory() + "meanfield-sweep-anything-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try meanfield(["sweep", "--optimizer", "euler,sgd", "--momentum", "0.5", "--heads", "2", "--layers", "1", "--ffn-units", "2",
                                    "--steps", "4", "--train-size", "8", "--eval-size", "8", "--threads-per-run", "1", "--parallel", "2", "--out", folder])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("note: --momentum 0.5 does not apply to 1 of 2 runs (optimizer-euler)"), "\(result.output)")
        for (name, momentum, dropped) in [("optimizer-euler", 0.9, "momentum=0.5"), ("optimizer-sgd", 0.5, "")] {
            let run = folder + "/runs/" + name
            #expect(SweepRunState.inspect(run) == .finished(status: "completed"), "\(name)")
            let saved = try RunFolder.readConfig(in: run)
            #expect(saved.momentum == momentum && saved.droppedKeys == dropped, "\(name)")
        }
        let manifest = try SweepManifest.read(from: folder)
        #expect(manifest.runs.first { $0.name == "optimizer-euler" }?.dropped == [SweepFlag("momentum", "0.5")])
    }
}
