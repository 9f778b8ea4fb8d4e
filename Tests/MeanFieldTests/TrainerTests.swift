// The training loop (Sources/MeanFieldTraining/Driver/TrainingRun.swift): convergence of the default config,
// bitwise resume, the NaN stop, data modes and the logged metrics.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func runFolder(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-trainer-\(getpid())-\(name)"
}

private func train(_ config: TrainConfig, into path: String, resume: Bool = false, haltAfter: Int? = nil) throws -> RunSummary {
    let resolved = try config.resolved(defaultThreads: 1)
    var trainer = Trainer(config: resolved, engine: AutodiffEngine<Float>(config: resolved.transformer))
    trainer.showProgress = false
    trainer.haltAfterStep = haltAfter
    return try trainer.run(directory: path, resume: resume)
}

private func metricsLines(_ path: String) throws -> [Substring] {
    try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
}

@Test func defaultRegressionConfigReachesOnePercentOfItsInitialLoss() throws {
    let path = runFolder("default")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let summary = try train(TrainConfig(), into: path)
    #expect(summary.status == "completed")
    #expect(summary.finalTrainRisk < 0.01 * summary.initialTrainRisk,
            "R went from \(summary.initialTrainRisk) to \(summary.finalTrainRisk)")
    // Run directory contents.
    for file in ["config.json", "manifest.json", "metrics.jsonl", "summary.json", "checkpoints/step-00000100.safetensors"] {
        #expect(FileManager.default.fileExists(atPath: path + "/" + file), "missing \(file)")
    }
    let lines = try metricsLines(path)
    #expect(lines.count == 11)  // steps 0, 10, …, 100
    let last = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
    for key in ["step", "t", "R", "Q", "eval_R", "grad_norm", "param_norm", "lr"] { #expect(last[key] is NSNumber, "no \(key)") }
    #expect((last["spread_attention"] as? [Double])?.count == 2 && (last["spread_ffn"] as? [Double])?.count == 2)
    #expect(abs((last["t"] as! Double) - 100 * 0.1) < 1e-12)  // t = Σ η_k (the default: Euler, η = 0.1)
}

@Test(arguments: [OptimizerKind.sgd, .adamw])
func resumeReproducesTheUninterruptedMetrics(optimizer: OptimizerKind) throws {
    var config = TrainConfig()
    config.optimizer = optimizer
    config.steps = 20
    config.logEvery = 3
    config.checkpointEvery = 5
    config.batchSize = 4                       // mini-batches: 4 steps per epoch, reshuffled each epoch
    config.schedule = .cosine
    config.warmupSteps = 3
    let whole = runFolder("whole-\(optimizer)"), halted = runFolder("halted-\(optimizer)")
    defer { for path in [whole, halted] { try? FileManager.default.removeItem(atPath: path) } }
    let uninterrupted = try train(config, into: whole)

    // Killed after step 13 (metrics logged up to 12, checkpoint at 10), then resumed.
    let stop = try train(config, into: halted, haltAfter: 13)
    #expect(stop.status == "halted")
    #expect(TrainingCheckpoint<Float>.latest(in: halted + "/checkpoints")?.step == 10)
    let resumed = try train(config, into: halted, resume: true)
    #expect(resumed.resumedFromStep == 10)
    #expect(try metricsLines(halted) == (try metricsLines(whole)))
    #expect(resumed.finalTrainRisk == uninterrupted.finalTrainRisk && resumed.meanFieldTime == uninterrupted.meanFieldTime)
    let a = try SafeTensorsFile.read(path: whole + "/checkpoints/step-00000020.safetensors")
    let b = try SafeTensorsFile.read(path: halted + "/checkpoints/step-00000020.safetensors")
    for name in a.names { #expect(try a.tensor(name, as: Float.self) == (try b.tensor(name, as: Float.self)), "\(name)") }
}

@Test func tenStepsThenTenMoreEqualTwentySteps() throws {
    // The `meanfield train --steps 10` then `--resume DIR --steps 20` path (a constant schedule, so
    // the run's length does not change its rates).
    var config = TrainConfig()
    config.steps = 20
    config.logEvery = 1
    config.optimizer = .adamw
    let whole = runFolder("twenty"), parts = runFolder("ten-ten")
    defer { for path in [whole, parts] { try? FileManager.default.removeItem(atPath: path) } }
    _ = try train(config, into: whole)
    var first = config
    first.steps = 10
    _ = try train(first, into: parts)
    _ = try train(config, into: parts, resume: true)
    #expect(try metricsLines(parts) == (try metricsLines(whole)))
    #expect(try metricsLines(parts).count == 21)
}

@Test func resumeOfARunGivenInEpochs() throws {
    var config = TrainConfig()
    config.trainSize = 16
    config.batchSize = 4
    config.epochs = 2         // 8 steps
    config.logEvery = 1
    config.checkpointEvery = 3
    let whole = runFolder("epochs-whole"), halted = runFolder("epochs-halted")
    defer { for path in [whole, halted] { try? FileManager.default.removeItem(atPath: path) } }
    _ = try train(config, into: whole)
    _ = try train(config, into: halted, haltAfter: 5)
    _ = try train(config, into: halted, resume: true)
    #expect(try metricsLines(halted) == (try metricsLines(whole)))
    #expect(try metricsLines(whole).count == 9)
}

@Test func resumeRefusesAnotherConfigOrNoCheckpoint() throws {
    var config = TrainConfig()
    config.steps = 4
    let path = runFolder("refuse")
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(throws: RunError.self) { try train(config, into: path, resume: true) }  // nothing to resume
    _ = try train(config, into: path)
    #expect(throws: RunError.self) { try train(config, into: path) }  // a new run over an old one's checkpoints
    var other = config
    other.heads = 3
    other.steps = 8
    #expect(throws: RunError.self) { try train(other, into: path, resume: true) }
    var shorter = config
    shorter.steps = 2
    #expect(throws: RunError.self) { try train(shorter, into: path, resume: true) }
}

@Test func aHugeStepStopsTheRunNamingTheStepLayerAndQuantityAndKeepsTheLastGoodCheckpoint() throws {
    var config = TrainConfig()
    config.optimizer = .euler
    config.lr = 1e6
    config.steps = 50
    config.checkpointEvery = 1
    config.logEvery = 1
    let path = runFolder("nan")
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        _ = try train(config, into: path)
        Issue.record("a run with η = 1e6 did not stop")
    } catch let error as RunError {
        let message = error.description
        #expect(!message.contains("\n"))
        let step = try #require(Int(message.split(separator: ":")[0].dropFirst("step ".count)), "\(message)")
        #expect(message.contains("R is") || message.contains("R grew") || message.contains("Q is") || message.contains("gradient of")
                || message.contains("parameter"), "\(message)")
        // The layer and the remedy: the Euler stability bound.
        #expect(message.contains(" of layer "), "\(message)")
        #expect(message.contains("--lr") && message.contains("stable only"))
        // The last checkpoint is the step before, with finite parameters; the summary records the stop.
        let latest = try #require(TrainingCheckpoint<Float>.latest(in: path + "/checkpoints"))
        #expect(latest.step == step - 1)
        #expect(message.contains(latest.path))
        let checkpoint = try TrainingCheckpoint<Float>.read(path: latest.path)
        #expect(checkpoint.parameters.names.allSatisfy { checkpoint.parameters[$0].scalars.allSatisfy(\.isFinite) })
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + "/summary.json"))) as? [String: Any]
        #expect(summary?["status"] as? String == "diverged")
    }
}

@Test func freshPromptsAndEpochs() throws {
    var fresh = TrainConfig()
    fresh.trainSize = 0
    fresh.batchSize = 8
    fresh.steps = 3
    fresh.logEvery = 1
    let path = runFolder("fresh")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let summary = try train(fresh, into: path)
    let lineCount = try metricsLines(path).count
    #expect(summary.finalTrainRisk.isFinite && lineCount == 4)
    // Each step draws new prompts: the data stream of step k is a pure function of (seed, k).
    var data = RegressionData<Float>(config: try fresh.resolved(defaultThreads: 1))
    let (s0, s1, s0again) = (data.batch(step: 0), data.batch(step: 1), data.batch(step: 0))
    #expect(s0.tokens == s0again.tokens && s0.tokens != s1.tokens)

    var epochs = TrainConfig()
    epochs.trainSize = 12
    epochs.batchSize = 5   // 2 steps per epoch (the last 2 prompts of each shuffled epoch are dropped)
    epochs.epochs = 3
    epochs.steps = 1000    // replaced by epochs × steps per epoch
    #expect(try epochs.resolved(defaultThreads: 1).steps == 6)
    var mini = RegressionData<Float>(config: try epochs.resolved(defaultThreads: 1))
    let firstEpoch = [mini.batch(step: 0).targets, mini.batch(step: 1).targets].flatMap(\.scalars)
    #expect(Set(firstEpoch).count == 10)  // no prompt twice within an epoch
}

@Test func particleSpreadIsTheRMSDistanceToTheMean() {
    var store = ParameterStore<Double>()
    // Two heads: θ_1 = (0, 0 | 0), θ_2 = (2, 0 | 4) over two tensors; mean (1, 0 | 2); distances √5 each.
    store.set("layer0.attention.keyQuery", Tensor(shape: [2, 2], scalars: [0, 0, 2, 0]), flowScale: 2)
    store.set("layer0.attention.outputValue", Tensor(shape: [2, 1], scalars: [0, 4]), flowScale: 2)
    store.set("layer1.attention.keyQuery", Tensor(shape: [2, 1], scalars: [3, 3]), flowScale: 2)
    let spread = TrainingMetrics.particleSpread(store, layers: 2)
    #expect(abs(spread.attention[0] - 5.0.squareRoot()) < 1e-15)
    #expect(spread.attention[1] == 0 && spread.ffn.isEmpty)
}

@Test func divergenceNamesTheLayerOfTheFirstNonFiniteParameterAndTheGrowthOfTheLoss() {
    var store = ParameterStore<Float>()
    store.set("layer0.attention.keyQuery", Tensor(shape: [2], scalars: [1, 2]), flowScale: 1)
    store.set("layer1.ffn.out", Tensor(shape: [2], scalars: [1, .nan]), flowScale: 1)
    let finite = [Tensor<Float>(shape: [2], scalars: [0, 0]), Tensor<Float>(shape: [2], scalars: [0, 0])]
    let nonFinite = Divergence.problem(loss: 1, lossName: "R", initialLoss: 1, objective: 1, gradients: finite, store: store)
    #expect(nonFinite == "parameter 'ffn.out' of layer 1 is not finite")
    store.set("layer1.ffn.out", Tensor(shape: [2], scalars: [1, 1]), flowScale: 1)
    #expect(Divergence.problem(loss: 9_999, lossName: "R", initialLoss: 1, objective: 1, gradients: finite, store: store) == nil)
    let grown = Divergence.problem(loss: 2e4, lossName: "R", initialLoss: 1, objective: 1,
                                   gradients: [finite[0], Tensor(shape: [2], scalars: [3, 4])], store: store)
    #expect(grown?.contains("R grew to 2e+04") == true && grown?.contains("'ffn.out' of layer 1") == true, "\(grown ?? "nil")")
}
