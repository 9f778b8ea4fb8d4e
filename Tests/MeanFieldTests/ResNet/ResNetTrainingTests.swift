// ResNets in training (theory §4–5): the NTK Gram matrix and PL constant against the gradient
// flow they describe, the random-feature kernel against its closed-form limit, and the trainers.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func teacherProblem(_ config: ResNetConfig, points: Int) -> (MeanFieldResNet, ParameterStore<Double>, Tensor<Double>, Tensor<Double>) {
    let model = MeanFieldResNet(config: config, seed: 3)
    var store: ParameterStore<Double> = model.initialParameters(seed: 3)
    var random = PhiloxRandom(seed: 8)
    // Non-zero random-feature weights, so that the blocks contribute to K.
    for name in store.names where name.hasSuffix(".out") { store[name] = random.normal(store[name].shape, standardDeviation: 0.5) }
    let data: (inputs: Tensor<Double>, targets: Tensor<Double>) = TeacherRegression(inputDimension: config.inputDimension, noise: 0, seed: 3)
        .sample(points, random: &random)
    return (model, store, data.inputs, data.targets)
}

@Test(arguments: [
    ResNetConfig(inputDimension: 2, hiddenDimension: 4, layers: 3, units: 6, activation: .tanh, outputs: 1),
    ResNetConfig(inputDimension: 3, hiddenDimension: 3, layers: 2, units: 5, block: .randomFeatures, outputs: 1),
])
func ntkGramGivesTheFlowsDissipation(_ config: ResNetConfig) throws {
    let (model, store, inputs, targets) = teacherProblem(config, points: 12)
    let spectrum = NeuralTangentKernel.spectrum(model: model, store: store, inputs: inputs, targets: targets)
    // Independent: Σ_p s_p (∂R/∂θ_p)² from one whole-batch reverse pass.
    let whole = model.riskAndGradients(store, inputs: inputs, targets: .regression(values: targets))
    var dissipation = 0.0
    for (name, gradient) in zip(store.names, whole.gradients) {
        dissipation += store.flowScales[name]! * gradient.scalars.reduce(0) { $0 + $1 * $1 }
    }
    #expect(abs(spectrum.risk - whole.risk) <= 1e-12 * whole.risk)
    #expect(abs(spectrum.dissipationRate * spectrum.risk - dissipation) <= 1e-10 * dissipation, "rᵀKr/n² = Σ s|∇R|²")
    #expect(spectrum.dissipationRate >= spectrum.plConstant, "−(dR/dt)/R ≥ 2λ_min/n")
    #expect(spectrum.lambdaMin > 0 && spectrum.lambdaMin <= spectrum.lambdaMax)
    // The flow itself: one tiny Euler step of dθ/dt = −s∇R lowers R by h·Σ s|∇R|² to first order.
    let h = 1e-6
    var stepped = store
    for (name, gradient) in zip(store.names, whole.gradients) {
        stepped[name] = store[name] - gradient * store.flowScales[name]! * h
    }
    let after = model.evaluate(stepped, inputs: inputs, targets: .regression(values: targets)).risk
    #expect(abs((whole.risk - after) / h - dissipation) <= 1e-3 * dissipation)
    // K is symmetric and its λ_min bounds every Rayleigh quotient.
    let gram = NeuralTangentKernel.gram(model: model, store: store, inputs: inputs)
    let n = gram.shape[0]
    for i in 0..<n { for k in 0..<i { #expect(abs(gram.scalars[i * n + k] - gram.scalars[k * n + i]) <= 1e-9 * spectrum.lambdaMax) } }
}

@Test(arguments: [RandomFeatureMap.cos, .relu])
func randomFeatureKernelConvergesToItsClosedFormLimit(_ map: RandomFeatureMap) {
    var random = PhiloxRandom(seed: 2)
    let points: Tensor<Double> = random.normal([20, 5])
    let study = RandomFeatureKernel.study(points: points, featureCounts: [10, 20_000, 80_000], scale: 0.4, map: map, seed: 5)
    #expect(study.points[0].lambdaMin <= 1e-10 * study.points[0].lambdaMax, "rank ≤ r < n")
    // Monte Carlo: |K_r − K| ~ 1/√r; quadrupling r halves it (within noise).
    #expect(study.points[1].limitDeviation < 0.05 * study.limit.lambdaMax / 5)
    #expect(study.points[2].limitDeviation < 0.75 * study.points[1].limitDeviation)
    #expect(abs(study.points[2].lambdaMin - study.limit.lambdaMin) <= 0.1 * study.limit.lambdaMin,
            "λ_min(K_r) \(study.points[2].lambdaMin) vs λ_min(K) \(study.limit.lambdaMin)")
}

private func resNetRegressionConfig(_ model: ModelKind, steps: Int, extra: [(String, String)] = []) throws -> TrainConfig {
    var config = TrainConfig.resNetDefaults(task: TrainConfig.teacherRegressionTask, model: model)
    try config.apply([("steps", "\(steps)"), ("train-size", "40"), ("eval-size", "50"), ("layers", "4"), ("units", "16"),
                      ("hidden-dim", "8"), ("log-every", "10"), ("ntk-every", "50")] + extra, source: { "--\($0)" })
    return try config.resolved(defaultThreads: 1)
}

@Test(arguments: [ModelKind.resnet, .rffResnet])
func resNetTrainerFitsTheTeacherAndLogsThePLBound(_ model: ModelKind) throws {
    let path = NSTemporaryDirectory() + "resnet-train-\(model.rawValue)-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: path) }
    var trainer = ResNetTrainer(config: try resNetRegressionConfig(model, steps: 150))
    trainer.showProgress = false
    let summary = try trainer.run(directory: path)
    #expect(summary.status == "completed")
    #expect(summary.finalTrainRisk < summary.initialTrainRisk / 5, "\(summary.initialTrainRisk) → \(summary.finalTrainRisk)")
    let lines = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    let ntkLines = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double] }.filter { $0["pl_constant"] != nil }
    #expect(ntkLines.map { $0["step"]! } == [0, 50, 100, 150])
    for line in ntkLines { #expect(line["dissipation_rate"]! >= line["pl_constant"]! && line["ntk_lambda_min"]! >= 0) }
    #expect(FileManager.default.fileExists(atPath: path + "/checkpoints/step-00000150.safetensors"))
    // The run report draws the NTK/PL section and the layer's unit particles.
    let html = try ReportBuilder.page(for: path).page.render()
    #expect(html.contains("Neural tangent kernel and the PL constant") && html.contains("Unit particles of layer 0"))
}

@Test func rffKernelRunWritesItsFilesAndReport() throws {
    let path = NSTemporaryDirectory() + "rff-kernel-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let config = RFFKernelConfig(points: 30, inputDimension: 6, featureCounts: [10, 100, 2000], featureMap: .cos, scale: 0.4, seed: 1)
    let results = try RFFKernelRun.run(config, path: path)
    #expect(results.points.map(\.features) == [10, 100, 2000] && results.points[0].lambdaMin == 0)
    for file in ["config.json", "manifest.json", "kernel.jsonl", "kernel.svg"] { #expect(FileManager.default.fileExists(atPath: path + "/" + file), "\(file)") }
    let html = try ReportBuilder.page(for: path).page.render()
    #expect(html.contains("Random-feature kernel") && html.contains("<svg"))
    #expect(throws: RunError.self) { try RFFKernelRun.run(RFFKernelConfig(points: 1, inputDimension: 2, featureCounts: [5], featureMap: .cos, scale: 1, seed: 0), path: path + "-bad") }
}

@Test func resNetRunResumesToTheUninterruptedLog() throws {
    let whole = NSTemporaryDirectory() + "resnet-whole-\(getpid())", parts = NSTemporaryDirectory() + "resnet-parts-\(getpid())"
    defer { for path in [whole, parts] { try? FileManager.default.removeItem(atPath: path) } }
    var full = ResNetTrainer(config: try resNetRegressionConfig(.resnet, steps: 60, extra: [("batch-size", "10"), ("optimizer", "adamw"), ("lr", "0.01")]))
    full.showProgress = false
    _ = try full.run(directory: whole)
    var first = ResNetTrainer(config: try resNetRegressionConfig(.resnet, steps: 30, extra: [("batch-size", "10"), ("optimizer", "adamw"), ("lr", "0.01")]))
    first.showProgress = false
    _ = try first.run(directory: parts)
    var second = ResNetTrainer(config: try resNetRegressionConfig(.resnet, steps: 60, extra: [("batch-size", "10"), ("optimizer", "adamw"), ("lr", "0.01")]))
    second.showProgress = false
    _ = try second.run(directory: parts, resume: true)
    #expect(try String(contentsOfFile: whole + "/metrics.jsonl", encoding: .utf8) == String(contentsOfFile: parts + "/metrics.jsonl", encoding: .utf8))
}

@Test(arguments: [ModelKind.resnet, .rffResnet])
func resNetClassifiesImages(_ model: ModelKind) throws {
    let path = NSTemporaryDirectory() + "resnet-images-\(model.rawValue)-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: path) }
    var config = TrainConfig.resNetDefaults(task: "synthetic-images", model: model)
    try config.apply([("epochs", "4")], source: { "--\($0)" })
    let resolved = try config.resolved(defaultThreads: 1)
    var trainer = ImageTrainer(config: resolved, splits: try ImageTrainer.loadSplits(resolved))
    trainer.showProgress = false
    trainer.printReport = false
    let summary = try trainer.run(directory: path)
    #expect(summary.finalTrainAccuracy >= 0.9, "train accuracy \(summary.finalTrainAccuracy)")
    // The checkpoint reads back as this ResNet (the config names the model).
    let checkpoint = try TrainingCheckpoint<Float>.read(path: TrainingCheckpoint<Float>.latest(in: path + "/checkpoints")!.path)
    #expect(checkpoint.config.model == model && Double(checkpoint.parameters.scalarCount) == resolved.resNet!.parameterCount)
}
