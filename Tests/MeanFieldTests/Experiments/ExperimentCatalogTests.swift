// The protocols of E1–E8 (Sources/MeanField/Experiments/Catalog/): every sweep and run of every
// setting resolves as `meanfield train` would resolve it, E3's full protocol is the one of
// experiments/e3_weight_decay.sh, and E3's slope (WeightDecayStudy) against numbers worked by hand.
import Foundation
import MeanField
import Testing

struct ExperimentCatalogTests {
    @Test func theCatalogNamesE1ToE8OnceEachAndFindsThemByAnySpelling() throws {
        #expect(Experiment.all.map(\.id) == (1...8).map { "E\($0)" })
        #expect(try Experiment.named("e2").id == "E2" && Experiment.named("7").id == "E7")
        #expect(throws: RunError.self) { try Experiment.named("E9") }
        for experiment in Experiment.all {
            #expect(!experiment.quick.isEmpty && !experiment.full.isEmpty, "\(experiment.id)")
            // One folder per step: no two steps write to the same place.
            for setting in Experiment.Setting.allCases {
                let folders = experiment.steps(setting).map(\.folder)
                #expect(Set(folders).count == folders.count, "\(experiment.id) \(setting)")
            }
        }
    }

    /// Every run of every sweep and single run, in both settings, resolves (flags known, values in
    /// range, keys that apply to the task and model): a protocol cannot fail on a typo after hours.
    @Test func everyRunOfEveryProtocolResolvesAsTrainWould() throws {
        var checked = 0
        for experiment in Experiment.all {
            for setting in Experiment.Setting.allCases {
                for step in experiment.steps(setting) {
                    switch step.command {
                    case .sweep:
                        var arguments = step.arguments
                        var seeds: Int?
                        if let index = arguments.firstIndex(of: "--seeds") {
                            seeds = Int(arguments[index + 1])
                            arguments.removeSubrange(index...index + 1)
                        }
                        let grid = try SweepGrid.make(arguments: arguments, seeds: seeds)
                        let runner = SweepRunner(manifest: SweepManifest(grid: grid), directory: "/nonexistent", executable: "meanfield",
                                                 threadsPerRun: 1, parallel: 1)
                        try runner.checkRuns()
                        checked += runner.manifest.runs.count
                    case .train:
                        _ = try TrainInvocation.parse(step.arguments).resolve(defaultThreads: 1)
                        checked += 1
                    case .varpro, .ntkCheck, .rffKernel:
                        continue  // their flags are checked by running them (ExperimentRunTests, MEANFIELD_QUICK_EXPERIMENTS)
                    }
                }
            }
        }
        // E1 full alone is 24 runs, E2 full 24, E3 full 20, E4 full 8.
        #expect(checked > 100)
    }

    /// E3 full: for λ in {0.02, 0.05, 0.1, 0.2}, steps = round(10/(λ·0.0005)), logged every steps/100,
    /// checkpointed every steps/2, into lambda-λ/ — experiments/e3_weight_decay.sh's protocol.
    @Test func e3FullIsTheWeightDecayScriptsProtocol() {
        let expected: [(String, Int)] = [("0.02", 1_000_000), ("0.05", 400_000), ("0.1", 200_000), ("0.2", 100_000)]
        let steps = Experiment.named3.full
        #expect(steps.count == 4)
        for (step, (lambda, count)) in zip(steps, expected) {
            #expect(step.command == .sweep && step.folder == "lambda-\(lambda)")
            #expect(step.arguments.joined(separator: " ") == "--task icl-regression --input-dim 5 --examples 10 --train-size 16 --eval-size 32 "
                + "--precision float64 --heads 8 --layers 2 --ffn-units 8 --weight-decay \(lambda) --seeds 5 --optimizer euler --lr 0.0005 "
                + "--steps \(count) --log-every \(count / 100) --checkpoint-every \(count / 2)")
        }
    }

    /// Q = c_s λ^{s} with per-seed exponents 0.9, 1.0, 1.1: slopes exact, mean 1.0, sd 0.1, and the
    /// 95% interval 1 ± t_{0.975, 2}·0.1/√3 = 1 ± 4.302653·0.0577350 = 1 ± 0.248414.
    @Test func theWeightDecaySlopeIsTheMeanOfPerSeedSlopesWithAStudentTInterval() throws {
        let lambdas = [0.02, 0.05, 0.1, 0.2]
        var points: [WeightDecayStudy.Point] = []
        for (seed, exponent, scale) in [(0, 0.9, 1.5), (1, 1.0, 1.4), (2, 1.1, 1.6)] {
            for lambda in lambdas {
                let q = scale * pow(lambda, exponent)
                points.append(.init(lambda: lambda, seed: seed, finalQ: q, finalR: 0.1 * q))
            }
        }
        // A seed missing a λ is left out, not fitted on three points.
        points.append(.init(lambda: 0.02, seed: 3, finalQ: 1, finalR: 1))
        let study = try WeightDecayStudy(points: points)
        #expect(study.seeds == [0, 1, 2])
        for (slope, exponent) in zip(study.seedSlopes, [0.9, 1.0, 1.1]) { #expect(abs(slope - exponent) < 1e-12) }
        #expect(abs(study.fit.slope - 1.0) < 1e-12)
        #expect(abs(study.fit.confidence95[0] - (1 - 0.248414)) < 1e-5 && abs(study.fit.confidence95[1] - (1 + 0.248414)) < 1e-5)
        #expect(study.verdict.kind == .consistent)
        #expect(abs(study.meanQ[3] - (1.5 * pow(0.2, 0.9) + 1.4 * 0.2 + 1.6 * pow(0.2, 1.1)) / 3) < 1e-12)
        #expect(study.description.contains("slope of log final Q vs log λ: consistent with the theory's 1"))
        // Two λ give no interval: one line saying so.
        #expect(throws: RunError.self) { try WeightDecayStudy(points: points.filter { $0.lambda <= 0.05 }) }
    }
}

private extension Experiment {
    static var named3: Experiment { try! Experiment.named("E3") }
}
