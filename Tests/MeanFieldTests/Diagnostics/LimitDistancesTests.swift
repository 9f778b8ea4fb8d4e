// Limit diagnostics for every model and task (issue 15, items 4–5): the centred output (f − f₀)/γ₀
// in both engines and the ResNets, width distances for a ViT family on images and a ResNet family on
// teacher regression on the runs' own evaluation sets with standard errors, and the distance from
// the linearized model (≈ 0 when the features cannot move, clearly > 0 when they do).
import Foundation
@testable import MeanField
import MeanFieldCore
import Testing

private func folder(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-distances-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))"
}

private func configured(_ base: TrainConfig, _ pairs: [(String, String)]) throws -> TrainConfig {
    var config = base
    try config.apply(pairs.map { (key: $0.0, text: $0.1) }, source: { "--\($0)" })
    config.threads = 2
    return try config.resolved(defaultThreads: 2)
}

/// A tiny ViT on the generated images: 4 factored heads of width 4 at D = 8 by default, one layer.
private func vitConfig(_ pairs: [(String, String)]) throws -> TrainConfig {
    try configured(TrainConfig.imageDefaults(task: "synthetic-images"),
                   [("token-dim", "8"), ("head-dim", "4"), ("ffn-units", "4"), ("layers", "1"), ("subset", "40"),
                    ("epochs", "2"), ("checkpoint-every-epochs", "1")] + pairs)
}

/// A tiny two-layer-block ResNet on teacher regression.
private func resNetConfig(_ pairs: [(String, String)]) throws -> TrainConfig {
    try configured(TrainConfig.defaults(task: TrainConfig.teacherRegressionTask, model: .resnet),
                   [("input-dim", "3"), ("hidden-dim", "4"), ("layers", "2"), ("train-size", "20"), ("eval-size", "64"),
                    ("steps", "20"), ("checkpoint-every", "10"), ("log-every", "10"), ("ntk-every", "0")] + pairs)
}

private func train(_ config: TrainConfig, into path: String) throws {
    if config.isImageTask {
        var trainer = ImageTrainer(config: config, splits: try ImageTrainer.loadSplits(config))
        trainer.showProgress = false
        trainer.printReport = false
        _ = try trainer.run(directory: path)
    } else if config.model == .transformer {
        var trainer = Trainer(config: config, engine: AnyTransformerEngine<Float>(config: config.transformer, kind: config.engine))
        trainer.showProgress = false
        _ = try trainer.run(directory: path)
    } else {
        var trainer = ResNetTrainer(config: config)
        trainer.showProgress = false
        _ = try trainer.run(directory: path)
    }
}

private func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(a), abs(b), 1e-300) }

// MARK: The centred output (f − f₀)/γ₀ (theory §1.6)

/// ∇R of the centred output with targets y equals (1/γ₀²)·∇R of the plain output with targets f₀ + γ₀y.
@Test(arguments: [EngineKind.fused, .autodiff])
func centredRegressionIsTheShiftedPlainRiskInBothEngines(_ kind: EngineKind) throws {
    var config = TrainConfig()
    config.heads = 3
    config.ffnUnits = 2
    let resolved = try config.resolved(defaultThreads: 1)
    let model = MeanFieldTransformer(config: resolved.transformer)
    let initial: ParameterStore<Double> = model.initialParameters(seed: 1)
    var moved = initial
    var random = PhiloxRandom(seed: 5, stream: 9)
    for name in moved.names { moved[name] = moved[name] + random.normal(moved[name].shape, standardDeviation: 0.3) }
    let data = RegressionData<Double>(config: resolved)
    let plainTargets = Targets<Double>.regression(values: data.eval.targets, labelRow: resolved.inputDim)
    var engine = AnyTransformerEngine<Double>(config: resolved.transformer, kind: kind)
    let f0 = engine.evaluate(initial, tokens: data.eval.tokens, targets: plainTargets).outputs
    let gamma0 = 0.25
    let centred = plainTargets.centredOutput(initialOutputs: f0, gamma0: gamma0)
    // At θ₀ the centred output is 0 on every prompt: R = ½ mean y².
    let atStart = engine.evaluate(initial, tokens: data.eval.tokens, targets: centred)
    #expect(atStart.outputs.scalars.allSatisfy { abs($0) < 1e-14 })
    let halfMeanSquare = 0.5 * data.eval.targets.scalars.reduce(0) { $0 + $1 * $1 } / Double(data.eval.targets.count)
    #expect(relativeError(atStart.risk, halfMeanSquare) < 1e-12)
    // Away from θ₀: risk and gradients against the shifted plain problem.
    let shifted = Tensor(shape: [data.eval.targets.count], scalars: zip(f0.scalars, data.eval.targets.scalars).map { $0 + gamma0 * $1 })
    let a = engine.riskAndGradients(moved, tokens: data.eval.tokens, targets: centred)
    let b = engine.riskAndGradients(moved, tokens: data.eval.tokens, targets: .regression(values: shifted, labelRow: resolved.inputDim))
    #expect(relativeError(a.risk, b.risk / (gamma0 * gamma0)) < 1e-12)
    for (x, y) in zip(a.gradients, b.gradients) {
        for (p, q) in zip(x.scalars, y.scalars) { #expect(abs(p - q / (gamma0 * gamma0)) <= 1e-10 * max(1, abs(p))) }
    }
}

@Test func centredLogitsAgreeBetweenEngines() throws {
    var transformer = TransformerConfig(dimension: 5, heads: 2, ffnUnits: 3, layers: 2)
    transformer.readout = .classification
    transformer.classes = 3
    var random = PhiloxRandom(seed: 2, stream: 4)
    var store: ParameterStore<Double> = MeanFieldTransformer(config: transformer).initialParameters(seed: 3)
    for name in store.names { store[name] = store[name] + random.normal(store[name].shape, standardDeviation: 0.2) }
    let tokens: Tensor<Double> = random.normal([4, 5, 6])
    let offsets: Tensor<Double> = random.normal([4, 3])
    let targets = Targets<Double>.classification(labels: [0, 2, 1, 2]).centredOutput(initialOutputs: offsets, gamma0: 0.5)
    var fused = AnyTransformerEngine<Double>(config: transformer, kind: .fused)
    var autodiff = AnyTransformerEngine<Double>(config: transformer, kind: .autodiff)
    let a = fused.riskAndGradients(store, tokens: tokens, targets: targets), b = autodiff.riskAndGradients(store, tokens: tokens, targets: targets)
    #expect(relativeError(a.risk, b.risk) < 1e-12)
    for (x, y) in zip(a.gradients, b.gradients) {
        for (p, q) in zip(x.scalars, y.scalars) { #expect(abs(p - q) <= 1e-10 * max(1, abs(q))) }
    }
    // The outputs are the centred logits.
    let plain = autodiff.evaluate(store, tokens: tokens, targets: .classification(labels: [0, 2, 1, 2])).outputs
    let centred = fused.evaluate(store, tokens: tokens, targets: targets).outputs
    for (c, (p, o)) in zip(centred.scalars, zip(plain.scalars, offsets.scalars)) { #expect(abs(c - (p - o) / 0.5) < 1e-12) }
}

@Test func centredImageClassifiersStartAtUniformLogits() throws {
    // Centred logits are 0 at θ₀: the initial training loss is log C exactly, also for the ResNet
    // whose random readout gives the plain model other logits; both train.
    let root = folder("centred-images")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let resNet: [(String, String)] = [("model", "resnet"), ("units", "8"), ("hidden-dim", "8"), ("layers", "2"), ("subset", "40"),
                                      ("epochs", "2"), ("checkpoint-every-epochs", "0")]
    var plainConfig = TrainConfig.defaults(task: "synthetic-images", model: .resnet)
    plainConfig.task = "synthetic-images"
    let plain = try configured(plainConfig, resNet)
    let centred = try configured(plainConfig, resNet + [("gamma0", "0.5")])
    let vit = try vitConfig([("heads", "2"), ("gamma0", "0.5")])
    for (name, config) in [("plain", plain), ("centred", centred), ("vit", vit)] { try train(config, into: root + "/" + name) }
    let initial = try Dictionary(uniqueKeysWithValues: ["plain", "centred", "vit"].map { ($0, try RunRecord(path: root + "/" + $0).first("train_loss")!) })
    #expect(abs(initial["centred"]! - log(4)) < 1e-6 && abs(initial["vit"]! - log(4)) < 1e-6)
    #expect(abs(initial["plain"]! - log(4)) > 1e-3)
    for name in ["centred", "vit"] {
        let run = try RunRecord(path: root + "/" + name)
        #expect(run.status == "completed" && run.last("train_loss")! < run.first("train_loss")!, "\(name)")
    }
}

@Test func gammaZeroIsOneOptionalKey() throws {
    #expect(TrainConfig().gamma0 == nil)
    #expect(TrainKeys["gamma0"] != nil)
    let config = try configured(TrainConfig(), [("gamma0", "0.1")])
    #expect(config.gamma0 == 0.1)
    var bad = TrainConfig()
    #expect(throws: RunError.self) { try bad.set("gamma0", "0", source: "--gamma0") }
    let roundTrip = try TrainConfig.fromJSON(try config.jsonData(), name: "config.json")
    #expect(roundTrip.gamma0 == 0.1)
    // Without the key, config.json has no gamma0 (older files read the same).
    #expect(!String(decoding: try TrainConfig().resolved(defaultThreads: 1).jsonData(), as: UTF8.self).contains("gamma0"))
}

// MARK: Width distances on the runs' own evaluation sets

@Test func resNetAndViTWidthFamiliesAreCoupled() throws {
    // Same seed ⇒ the first M particles of the wider model, and the same embedding and readout.
    let pairs: [(TrainConfig, TrainConfig)] = [
        (try resNetConfig([("units", "3")]), try resNetConfig([("units", "12")])),
        (try vitConfig([("heads", "2")]), try vitConfig([("heads", "6")])),
    ]
    for (small, large) in pairs {
        let a: ParameterStore<Float> = small.initialParameters(), b: ParameterStore<Float> = large.initialParameters()
        #expect(a.names == b.names)
        for name in a.names {
            #expect(a[name].scalars == Array(b[name].scalars.prefix(a[name].count)), "\(name) is not a prefix (\(small.task))")
        }
    }
}

@Test func vitFamilyOnImagesGetsLogitDistancesAndAccuracyGaps() throws {
    let root = folder("vit")
    defer { try? FileManager.default.removeItem(atPath: root) }
    for heads in [1, 2, 6] { try train(try vitConfig([("heads", "\(heads)")]), into: root + "/runs/heads-\(heads)") }
    let report = try LimitDiagnostics.diagnose(root)
    #expect(report.width.map(\.heads) == [1, 2])
    for entry in report.width {
        #expect(entry.reference == "heads-6" && entry.widthKey == "heads" && entry.task == "synthetic-images")
        #expect(entry.evalSamples == 200)   // the whole generated test set (test-subset 0), below --eval-size 1024
        #expect(entry.curve.t.count == 3)   // epochs 0, 1, 2
        #expect(entry.functionDistance > 0 && entry.functionDistance.isFinite)
        #expect(entry.functionDistanceSE > 0 && entry.functionDistanceSE < entry.functionDistance)
        #expect(entry.curve.functionDistanceSE.count == 3)
        #expect(entry.accuracyGap.isFinite && entry.accuracyGapSE.isFinite && abs(entry.accuracyGap) <= 1)
        #expect(entry.particleSlicedW2.count == 1 && entry.particleSlicedW2.allSatisfy { $0 > 0 })
        #expect(!entry.curve.riskGap.isEmpty)
    }
    // The readout starts at zero, so every ViT starts at the same (zero) logits.
    #expect(report.width.allSatisfy { $0.curve.functionDistance[0] == 0 })
    // The probe's sample is the run's own test set: its accuracy and loss are the run's logged test_acc and test_loss.
    let run = try RunRecord(path: root + "/runs/heads-2")
    let probe = try ModelProbe(run: run)
    let logits = probe.predictions(try run.state(atStep: run.checkpoints.map(\.step).max()!).store)
    let accuracy = Double(probe.correct(logits).filter { $0 }.count) / Double(probe.sample.count)
    #expect(abs(accuracy - run.last("test_acc")!) <= 1.0 / 200)
    var loss = 0.0
    for (i, label) in probe.sample.labels.enumerated() {
        let row = logits[(i * 4)..<(i * 4 + 4)], top = row.max()!
        loss += log(row.reduce(0) { $0 + exp($1 - top) }) + top - row[i * 4 + label]
    }
    #expect(relativeError(loss / 200, run.last("test_loss")!) < 1e-4)
    // --eval-size below the test set: a class-balanced part of it.
    #expect(try EvaluationSample(config: run.config, evalSize: 100).count == 100)
    #expect(Set(try EvaluationSample(config: run.config, evalSize: 100).labels).count == 4)
}

@Test func resNetFamilyOnTeacherRegressionGetsDistancesOnItsOwnPoints() throws {
    let root = folder("resnet")
    defer { try? FileManager.default.removeItem(atPath: root) }
    for units in [2, 4, 16] { try train(try resNetConfig([("units", "\(units)")]), into: root + "/runs/units-\(units)") }
    let own = try LimitDiagnostics.diagnose(root, evalSize: 0)
    #expect(own.width.map(\.heads) == [2, 4])
    #expect(own.width.allSatisfy { $0.widthKey == "units" && $0.referenceHeads == 16 && $0.evalSamples == 64 && $0.curve.t.count == 3 })
    #expect(own.width.allSatisfy { $0.functionDistance > 0 && $0.functionDistanceSE > 0 && $0.functionDistanceSE < $0.functionDistance })
    #expect(own.width.allSatisfy { $0.curve.functionDistance[0] > 0 })   // 1/M averages of different samples at t = 0
    #expect(own.width.allSatisfy { $0.particleSlicedW2.count == 2 && $0.particleSlicedW2.allSatisfy { $0 > 0 && $0.isFinite } })
    #expect(own.width.allSatisfy { $0.accuracyGap.isNaN })
    #expect(own.fits.contains { $0.against == "units" } == false)   // two widths below the reference: no fit
    // The sample is the run's own evaluation set: the probe's R at the end is the run's final eval_R.
    let run = try RunRecord(path: root + "/runs/units-4")
    let probe = try ModelProbe(run: run)
    #expect(probe.sample.count == 64)
    let predictions = probe.predictions(try run.state(atStep: 20).store)
    let risk = zip(predictions, probe.targets.scalars).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / 128
    #expect(relativeError(risk, run.last("eval_R")!) < 1e-5, "\(risk) vs \(run.last("eval_R")!)")
    // The default sample (1,024): the same stream, its first 64 inputs the run's own.
    let report = try LimitDiagnostics.diagnose(root)
    #expect(report.evalSize == 1024 && report.width.allSatisfy { $0.evalSamples == 1024 })
    let larger = try EvaluationSample(config: run.config, evalSize: 1024)
    #expect(Array(larger.inputs.scalars.prefix(64 * 3)) == probe.sample.inputs.scalars)
    // Standard errors shrink with the sample: ≈ √(64/1024) = 1/4 of the own set's.
    let ratio = report.width[0].functionDistanceSE / own.width[0].functionDistanceSE
    #expect(ratio > 0.1 && ratio < 0.5, "SE ratio \(ratio)")
    // Written with the new fields and read back.
    try report.write(to: root)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/diagnostics.json"))) as! [String: Any]
    let width = (object["width"] as! [[String: Any]])[0]
    for key in ["function_distance_se", "eval_samples", "width_key", "accuracy_gap", "accuracy_gap_se", "task"] { #expect(width[key] != nil, "\(key)") }
    #expect((object["linearization"] as? [[String: Any]])?.first?["relative_distance_se"] != nil)
    let read = try #require(try DiagnosticsReport.read(from: root))
    #expect(read.width[0].widthKey == "units" && read.width[0].evalSamples == 1024 && read.linearization.count == 3)
}

@Test func regressionSampleIsTheRunsOwnPrompts() throws {
    var config = TrainConfig()
    config.evalSize = 48
    let resolved = try config.resolved(defaultThreads: 1)
    let sample = try EvaluationSample(config: resolved)
    let own = RegressionData<Float>(config: resolved).eval   // runs draw their prompts in Float
    #expect(sample.inputs.scalars == own.tokens.converted(to: Double.self).scalars)
    #expect(sample.targets.scalars == own.targets.converted(to: Double.self).scalars)
    #expect(try EvaluationSample(config: resolved, evalSize: 1024).count == 1024)
    #expect(try EvaluationSample(config: resolved, evalSize: 16).count == 48)   // the run's larger set wins
}

// MARK: Distance from the linearized model (theory §1.6)

@Test func linearizationDistanceIsSmallWhenFeaturesCannotMoveAndLargeWhenTheyLearn() throws {
    let root = folder("lazy")
    defer { try? FileManager.default.removeItem(atPath: root) }
    // Same ResNet, same function-space speed (η ∝ γ₀²), 200 steps: γ₀ = 10⁻³ (lazy) against the plain output.
    let common: [(String, String)] = [("units", "16"), ("steps", "200"), ("checkpoint-every", "100")]
    try train(try resNetConfig(common + [("gamma0", "0.001"), ("lr", "\(0.2 * 1e-6)")]), into: root + "/runs/lazy")
    try train(try resNetConfig(common + [("gamma0", "0.1"), ("lr", "\(0.2 * 1e-2)")]), into: root + "/runs/gamma-0.1")
    try train(try resNetConfig(common + [("lr", "0.2")]), into: root + "/runs/rich")
    try train(try resNetConfig(common + [("lr", "1e-6")]), into: root + "/runs/tiny-rate")
    let report = try LimitDiagnostics.diagnose(root, evalSize: 256)
    let byRun = Dictionary(uniqueKeysWithValues: report.linearization.map { ($0.run, $0) })
    let lazy = try #require(byRun["lazy"]), middle = try #require(byRun["gamma-0.1"])
    let rich = try #require(byRun["rich"]), tiny = try #require(byRun["tiny-rate"])
    print("linearization: γ₀=1e-3 \(lazy.relativeDistance) ± \(lazy.relativeDistanceSE); γ₀=0.1 \(middle.relativeDistance); "
          + "plain η=0.2 \(rich.relativeDistance) ± \(rich.relativeDistanceSE); plain η=1e-6 \(tiny.relativeDistance)")
    print("function change: lazy \(lazy.functionChange), γ₀=0.1 \(middle.functionChange), rich \(rich.functionChange), tiny \(tiny.functionChange)")
    #expect(lazy.gamma0 == 0.001 && rich.gamma0.isNaN && lazy.evalSamples == 256 && lazy.step == 200)
    #expect(lazy.functionChange > 0.1)       // the centred output did learn
    #expect(lazy.relativeDistance < 0.01)    // … through its tangent map
    #expect(tiny.relativeDistance < 0.01)
    #expect(middle.relativeDistance > lazy.relativeDistance)
    #expect(rich.relativeDistance > 0.1)     // the features moved
    #expect(rich.relativeDistance > 10 * lazy.relativeDistance)
    #expect(lazy.curveT.count == 2 && rich.curveRelativeDistance.count == 2)
}

@Test func linearizationOfATransformerTrainedThroughTheFusedEngine() throws {
    // The centred Transformer on in-context regression (fused engine, Euler, η ∝ γ₀²).
    let root = folder("lazy-transformer")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let base: [(String, String)] = [("optimizer", "euler"), ("steps", "60"), ("checkpoint-every", "30"), ("heads", "8")]
    try train(try configured(TrainConfig(), base + [("gamma0", "0.001"), ("lr", "\(0.1 * 1e-6)")]), into: root + "/runs/lazy")
    try train(try configured(TrainConfig(), base + [("lr", "0.1")]), into: root + "/runs/plain")
    let report = try LimitDiagnostics.diagnose(root, evalSize: 128)
    let byRun = Dictionary(uniqueKeysWithValues: report.linearization.map { ($0.run, $0) })
    let lazy = try #require(byRun["lazy"]), plain = try #require(byRun["plain"])
    print("transformer linearization: γ₀=1e-3 \(lazy.relativeDistance) (change \(lazy.functionChange)); plain \(plain.relativeDistance) (change \(plain.functionChange))")
    #expect(lazy.functionChange > 0.05 && lazy.relativeDistance < 0.01)
    #expect(plain.relativeDistance > 10 * lazy.relativeDistance)
    // The centred run's metrics start at R = ½ E y² (its output is 0 at θ₀).
    let run = try RunRecord(path: root + "/runs/lazy")
    let data = RegressionData<Float>(config: run.config)
    let expected = 0.5 * data.train!.targets.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(data.train!.targets.count)
    #expect(relativeError(run.first("R")!, expected) < 1e-5)
}

@Test func reportShowsStandardErrorsAndTheLinearizationSection() throws {
    var report = DiagnosticsReport()
    report.evalSize = 1024
    var entry = DiagnosticsReport.WidthEntry(run: "heads-2", reference: "heads-8", heads: 2, referenceHeads: 8, layers: 1, seed: 0,
                                             weightDecay: 0, lr: 0.01, functionDistance: 0.04, referenceMeanSquare: 1, riskGap: 0.01,
                                             particleSlicedW2: [0.1], particleMMD: [0.01], particleSinkhorn: [0.02],
                                             curve: .init(t: [0, 1], functionDistance: [0, 0.04], riskGapT: [0, 1], riskGap: [0, 0.01]))
    entry.task = "synthetic-images"
    entry.evalSamples = 200
    entry.functionDistanceSE = 0.004
    entry.accuracyGap = -0.05
    entry.accuracyGapSE = 0.015
    report.width = [entry]
    report.linearization = [.init(run: "heads-2", task: "synthetic-images", model: "transformer", width: 2, widthKey: "heads", layers: 1,
                                  seed: 0, lr: 0.01, gamma0: .nan, step: 20, t: 0.2, evalSamples: 200, relativeDistance: 0.3,
                                  relativeDistanceSE: 0.02, functionChange: 1.2, linearChange: 1.1, curveT: [0.1, 0.2],
                                  curveRelativeDistance: [0.2, 0.3])]
    var page = HTMLPage(title: "t")
    for section in SweepDiagnosticsReport.sections(report) { page.add(section) }
    let html = page.render()
    #expect(page.sectionIDs.contains("distances") && page.sectionIDs.contains("linearization"))
    #expect(html.contains("0.2 ± 0.01"))      // √0.04 ± 0.004/(2·0.2)
    #expect(html.contains("-0.05 ± 0.015") || html.contains("−0.05 ± 0.015"))
    #expect(html.contains("0.3 ± 0.02"))
}
