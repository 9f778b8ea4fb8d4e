// The Euler gradient flow (theory §1.4) and the in-context regression task (theory §1.1) against
// closed forms: the update rule, the decrease of Q along the flow, and the linear law of the labels.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Test func eulerStepIsTheMeanFieldUpdate() {
    var store = ParameterStore<Double>()
    store.set("w", Tensor(shape: [2, 2], scalars: [1, -2, 3, 0.5]), flowScale: 12)
    let gradient = Tensor<Double>(shape: [2, 2], scalars: [0.1, 0.2, -0.3, 0.4])
    let flow = GradientFlow(learningRate: 0.05, weightDecay: 0.2)
    flow.step(&store, gradients: [gradient])
    // θ ← θ − η (L M ∇R + λ θ), flow scale L·M = 12.
    let expected = zip([1, -2, 3, 0.5], gradient.scalars).map { theta, g in theta - 0.05 * (12 * g + 0.2 * theta) }
    for (value, reference) in zip(store["w"].scalars, expected) { #expect(abs(value - reference) < 1e-15) }
    // Q = R + (λ/2) Σ|θ|²/(L M).
    let squared = store["w"].scalars.reduce(0) { $0 + $1 * $1 }
    #expect(abs(flow.objective(risk: 1.5, store: store) - (1.5 + 0.1 * squared / 12)) < 1e-15)
}

@Test func regularizedObjectiveDecreasesAlongTheFlowWithSmallSteps() {
    let config = TransformerConfig(dimension: 4, heads: 3, ffnUnits: 3, layers: 2, initStd: 0.5)
    let model = MeanFieldTransformer(config: config)
    var store: ParameterStore<Double> = model.initialParameters(seed: 8)
    let task = InContextRegression(inputDimension: 3, examples: 6)
    var random = PhiloxRandom(seed: 1)
    let batch: (tokens: Tensor<Double>, targets: Tensor<Double>) = task.sample(16, random: &random)
    let flow = GradientFlow(learningRate: 0.002, weightDecay: 0.01)
    var previous = Double.infinity
    for _ in 0..<100 {
        let variables = store.names.map { Variable(store[$0]) }
        let prediction = model.regressionReadout(model.forward(Variable.constant(batch.tokens),
            parameters: Dictionary(uniqueKeysWithValues: zip(store.names, variables))), labelRow: task.labelRow)
        let loss = (prediction - Variable.constant(batch.targets)).squared().mean() * 0.5
        let objective = flow.objective(risk: loss.value.scalar, store: store)
        #expect(objective < previous, "Q rose from \(previous) to \(objective)")
        previous = objective
        flow.step(&store, gradients: gradients(of: loss, withRespectTo: variables))
    }
}

@Test func regressionLabelsFollowOneLinearLawPerPrompt() throws {
    let task = InContextRegression(inputDimension: 3, examples: 12, noise: 0, tokenDimension: 5)
    var random = PhiloxRandom(seed: 2)
    let batch: (tokens: Tensor<Double>, targets: Tensor<Double>) = task.sample(4, random: &random)
    #expect(batch.tokens.shape == [4, 5, 13])
    for prompt in 0..<4 {
        // Least squares w from the first 3 examples (exactly determined), checked on all the others
        // and on the query target.
        var matrix = [[Double]](), labels = [Double]()
        for i in 0..<3 {
            matrix.append((0..<3).map { batch.tokens[prompt, $0, i] })
            labels.append(batch.tokens[prompt, 3, i])
        }
        let w = try #require(solve3(matrix, labels))
        for i in 3..<13 {
            let prediction = (0..<3).reduce(0.0) { $0 + w[$1] * batch.tokens[prompt, $1, i] }
            let label = i < 12 ? batch.tokens[prompt, 3, i] : batch.targets[prompt]
            #expect(abs(prediction - label) < 1e-9)
            #expect(batch.tokens[prompt, 4, i] == 0)  // padding row
        }
        #expect(batch.tokens[prompt, 3, 12] == 0)  // the query's label slot is empty
    }
}

/// Cramer's rule for a 3×3 system.
private func solve3(_ a: [[Double]], _ b: [Double]) -> [Double]? {
    func det(_ m: [[Double]]) -> Double {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }
    let d = det(a)
    guard abs(d) > 1e-9 else { return nil }
    return (0..<3).map { column in
        var replaced = a
        for row in 0..<3 { replaced[row][column] = b[row] }
        return det(replaced) / d
    }
}

@Test(arguments: [EngineKind.fused, .autodiff])
func sameSeedGivesIdenticalRunsAndFilesAreComplete(engine: EngineKind) throws {
    var settings = TrainConfig.demo
    settings.steps = 3
    settings.logEvery = 1
    settings.trainSize = 64
    settings.evalSize = 16
    settings.batchSize = 16
    settings.engine = engine
    let config = try settings.resolved(defaultThreads: 2)
    var logs: [String] = []
    for run in 0..<2 {
        let path = NSTemporaryDirectory() + "meanfield-test-\(getpid())-\(engine)-\(run)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var trainer = Trainer(config: config, engine: AnyTransformerEngine<Float>(config: config.transformer, kind: engine))
        let summary = try trainer.run(directory: path)
        #expect(summary.finalTrainRisk.isFinite)
        let metrics = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8)
        let lines = metrics.split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["R"] is Double && object?["t"] != nil && object?["eval_R"] != nil)
        }
        #expect(FileManager.default.fileExists(atPath: path + "/summary.json"))
        logs.append(metrics)
    }
    #expect(logs[0] == logs[1])
}

@Test func unwritableRunDirectoryIsReportedInOneLine() {
    #expect(throws: RunError.self) { try RunDirectory(path: "/proc/meanfield-cannot-write-here") }
}
