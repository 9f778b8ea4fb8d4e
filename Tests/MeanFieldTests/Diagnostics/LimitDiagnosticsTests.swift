// Limit diagnostics (Sources/MeanField/Diagnostics): width coupling, the function-space distance
// against a hand-written readout, fitted slopes on exact power laws, failure signatures on
// hand-written run directories, and an end-to-end width study on tiny trained runs.
import Foundation
import MeanField
import MeanFieldCore
import Testing

private func folder(_ name: String) -> String {
    NSTemporaryDirectory() + "meanfield-diagnostics-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))"
}

private func tinyConfig(heads: Int, seed: UInt64 = 0, layers: Int = 2) -> TrainConfig {
    var config = TrainConfig()
    config.heads = heads
    config.ffnUnits = 0
    config.layers = layers
    config.seed = seed
    config.steps = 20
    // AdamW at η = 0.02 (the regression default before it became Euler at η = 0.1): t = 0.2 per 10 steps.
    (config.optimizer, config.lr) = (.adamw, 0.02)
    config.logEvery = 5
    config.checkpointEvery = 10
    config.evalSize = 16
    return config
}

private func train(_ config: TrainConfig, into path: String) throws {
    let resolved = try config.resolved(defaultThreads: 1)
    var trainer = Trainer(config: resolved, engine: AutodiffEngine<Float>(config: resolved.transformer))
    trainer.showProgress = false
    _ = try trainer.run(directory: path)
}

/// Writes a run directory by hand: config.json, metrics.jsonl (one line per record), summary.json.
private func writeRun(_ path: String, config: TrainConfig, records: [[String: Double]], status: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    try encoder.encode(try config.resolved(defaultThreads: 1)).write(to: URL(fileURLWithPath: path + "/config.json"))
    let lines = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: .sortedKeys), as: UTF8.self) }
    try (lines.joined(separator: "\n") + "\n").write(toFile: path + "/metrics.jsonl", atomically: true, encoding: .utf8)
    try "{\"status\":\"\(status)\"}".write(toFile: path + "/summary.json", atomically: true, encoding: .utf8)
}

@Test func smallerWidthStartsFromAPrefixOfTheReferenceSample() {
    // The coupling the width study relies on: same seed ⇒ the first M heads of the M_ref sample.
    for attention in [AttentionKind.merged, .factored] {
        var small = tinyConfig(heads: 3).transformer, large = tinyConfig(heads: 12).transformer
        small.attention = attention; large.attention = attention
        let a: ParameterStore<Double> = MeanFieldTransformer(config: small).initialParameters(seed: 7)
        let b: ParameterStore<Double> = MeanFieldTransformer(config: large).initialParameters(seed: 7)
        let c: ParameterStore<Float> = MeanFieldTransformer(config: small).initialParameters(seed: 7)
        let d: ParameterStore<Float> = MeanFieldTransformer(config: large).initialParameters(seed: 7)
        #expect(a.names == b.names)
        for name in a.names {
            let count = a[name].count
            #expect(a[name].scalars == Array(b[name].scalars.prefix(count)), "\(name) is not a prefix (\(attention))")
            #expect(c[name].scalars == Array(d[name].scalars.prefix(count)), "\(name) is not a prefix in Float (\(attention))")
        }
    }
}

@Test func forwardStatesEndWithTheForwardOutput() {
    var config = tinyConfig(heads: 2, layers: 3).transformer
    config.ffnUnits = 3
    let model = MeanFieldTransformer(config: config)
    let store: ParameterStore<Double> = model.initialParameters(seed: 1)
    var random = PhiloxRandom(seed: 3, stream: 0)
    let tokens = Variable(random.normal([2, config.dimension, 5], standardDeviation: 1.0), requiresGradient: false)
    var parameters: [String: Variable<Double>] = [:]
    for name in store.names { parameters[name] = Variable(store[name], requiresGradient: false) }
    let states = model.forwardStates(tokens, parameters: parameters)
    #expect(states.count == 4)
    #expect(states[0].value == tokens.value)
    #expect(states.last!.value == model.forward(tokens, parameters: parameters).value)
}

@Test func powerLawFamiliesGiveTheirExponents() throws {
    // Final Q = 3 λ exactly and R = 0.5 λ² ⇒ slopes 1 and 2 with any seed count.
    let root = folder("decay")
    defer { try? FileManager.default.removeItem(atPath: root) }
    for (index, decay) in [1e-4, 1e-3, 1e-2, 1e-1].enumerated() {
        var config = tinyConfig(heads: 2)
        config.weightDecay = decay
        try writeRun(root + "/runs/run\(index)", config: config,
                     records: [["step": 0, "t": 0, "R": 1, "Q": 1], ["step": 20, "t": 0.4, "R": 0.5 * decay * decay, "Q": 3 * decay]],
                     status: "completed")
    }
    let report = try LimitDiagnostics.diagnose(root)
    #expect(report.decay.count == 4)
    let q = try #require(report.fits.first { $0.quantity == "final_Q" })
    let r = try #require(report.fits.first { $0.quantity == "final_R" })
    #expect(abs(q.slope - 1) < 1e-9 && abs(r.slope - 2) < 1e-9 && q.theory == 1)
}

@Test func failureSignaturesAreNamedWithTheirKnob() throws {
    let root = folder("signatures")
    defer { try? FileManager.default.removeItem(atPath: root) }
    var decayed = tinyConfig(heads: 2)
    decayed.weightDecay = 0.5
    func record(_ index: Int, risk: Double) -> [String: Double] {
        ["step": Double(index * 10), "t": Double(index) * 0.2, "R": risk, "Q": 1.0]
    }
    let plateau: [[String: Double]] = (0...8).map { record($0, risk: $0 < 3 ? 2.0 - 0.4 * Double($0) : 0.8) }
    try writeRun(root + "/plateau", config: decayed, records: plateau, status: "completed")
    let healthy: [[String: Double]] = (0...8).map { record($0, risk: 2.0 * pow(0.3, Double($0))) }
    try writeRun(root + "/healthy", config: tinyConfig(heads: 3), records: healthy, status: "completed")
    try writeRun(root + "/diverged", config: tinyConfig(heads: 4), records: [["step": 0, "t": 0, "R": 2, "Q": 2]], status: "diverged")
    try writeRun(root + "/diverged-at-once", config: tinyConfig(heads: 5), records: [], status: "diverged")
    let report = try LimitDiagnostics.diagnose(root)
    let names = Dictionary(report.signatures.flatMap { signature in signature.runs.map { ($0, signature.name) } }, uniquingKeysWith: { a, _ in a })
    #expect(names == ["plateau": "plateau", "diverged": "divergence", "diverged-at-once": "divergence"])
    // The plateau's λ holds a fifth of Q: the run's own data point at the weight decay.
    #expect(report.signatures.first { $0.runs == ["plateau"] }!.cause == "weight decay")
    #expect(report.signatures.first { $0.runs == ["plateau"] }!.knob.contains("--weight-decay"))
    #expect(report.signatures.first { $0.runs.contains("diverged") }!.knob.contains("--lr"))
    #expect(report.signatures.first { $0.runs.contains("diverged") }!.runs == ["diverged", "diverged-at-once"])
}

@Test func widthStudyMeasuresCoupledRunsAgainstTheReference() throws {
    let root = folder("width")
    defer { try? FileManager.default.removeItem(atPath: root) }
    for heads in [1, 2, 8] { try train(tinyConfig(heads: heads), into: root + "/runs/heads-\(heads)") }
    let sampled = try LimitDiagnostics.diagnose(root)
    #expect(sampled.width.allSatisfy { $0.evalSamples == 1024 && $0.functionDistanceSE > 0 })
    #expect(sampled.linearization.count == 3)
    let report = try LimitDiagnostics.diagnose(root, evalSize: 0)
    #expect(report.width.map(\.heads) == [1, 2] && report.width.allSatisfy { $0.evalSamples == 16 })
    #expect(report.width.allSatisfy { $0.reference == "heads-8" && $0.curve.t.count == 3 })
    #expect(report.width.allSatisfy { zip($0.curve.t, [0, 0.2, 0.4]).allSatisfy { abs($0 - $1) < 1e-9 } })

    // Independent check of the distance at t = 0: the readout written out by hand, on the runs' own
    // evaluation prompts (drawn in Float as the runs drew them), --eval-size 0.
    let config = try tinyConfig(heads: 1).resolved(defaultThreads: 1)
    let own = RegressionData<Float>(config: config).eval
    let tokens = own.tokens.converted(to: Double.self)
    func predictions(_ heads: Int) -> [Double] {
        let model = MeanFieldTransformer(config: try! tinyConfig(heads: heads).resolved(defaultThreads: 1).transformer)
        let trained: ParameterStore<Float> = model.initialParameters(seed: 0)   // runs train in Float
        let store = trained.converted(to: Double.self)
        var parameters: [String: Variable<Double>] = [:]
        for name in store.names { parameters[name] = Variable(store[name]) }
        let output = model.forward(Variable(tokens), parameters: parameters)
        return model.regressionReadout(output, labelRow: config.inputDim).value.scalars
    }
    let reference = predictions(8), small = predictions(1)
    let expected = zip(small, reference).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(small.count)
    let measured = report.width[0].curve.functionDistance[0]
    #expect(abs(measured - expected) <= 1e-12 * max(1, expected), "\(measured) vs \(expected)")
    #expect(measured > 0)
    // Risk gaps at every logged step (0, 5, 10, 15, 20), particle distances per layer.
    #expect(report.width[0].curve.riskGap.count == 5)
    #expect(report.width.allSatisfy { $0.particleSlicedW2.count == 2 && $0.particleSlicedW2.allSatisfy { $0 > 0 } })
    // Coordinate check: layers 0…L at step 0 and at the checkpoints every run has (10, 20), for each width.
    #expect(report.coordinates.count == 3 * 3 * 3)
    #expect(report.coordinateFamilies.count == 1 && report.coordinateFamilies[0].steps == [0, 10, 20])
    #expect(report.coordinates.filter { $0.step == 0 }.allSatisfy { $0.updateRMS == 0 })
    #expect(report.coordinates.filter { $0.step == 10 && $0.layer > 0 }.allSatisfy { $0.updateRMS > 0 })
    // Written and readable.
    try report.write(to: root)
    let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/diagnostics.json"))) as? [String: Any]
    #expect((written?["width"] as? [Any])?.count == 2)
}

@Test func infiniteMetricsAreReadBackAsInfinity() throws {
    // RunDirectory writes ±∞ as ±1e999 (what Python's json reads as inf); Foundation does not parse it.
    let root = folder("infinite")
    defer { try? FileManager.default.removeItem(atPath: root) }
    try writeRun(root, config: tinyConfig(heads: 2), records: [["step": 0, "t": 0, "R": 1, "Q": 1]], status: "completed")
    try "{\"R\":0.5,\"eval_R\":1e999,\"step\":10,\"t\":0.2,\"Q\":-1e999}\n"
        .write(toFile: root + "/metrics.jsonl", atomically: true, encoding: .utf8)
    let run = try RunRecord(path: root)
    #expect(run.last("eval_R") == .infinity && run.last("Q") == -.infinity && run.last("R") == 0.5)
}

@Test func aFolderWithoutRunsIsAOneLineError() throws {
    let root = folder("empty")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    #expect(throws: RunError.self) { try LimitDiagnostics.diagnose(root) }
    #expect(throws: RunError.self) { try LimitDiagnostics.diagnose(root + "/missing") }
}
