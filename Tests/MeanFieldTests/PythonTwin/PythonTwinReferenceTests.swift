// The llm.c-style reference: Fixtures/transformer-twin.safetensors holds parameters, a batch, and the
// risk and every gradient that the PyTorch twin (python/meanfield/twin.py) computed from them in
// float64 (written once by scripts/python_twin_fixture.py). Both Swift engines must reproduce them
// to 1e-12, for every option of the regression Transformer (merged/factored heads, the three score
// maps, five activations, temperature, α = ½, pre-norm, head scaling 1/M, 1/√M, 1).
import Foundation
import MeanField
import MeanFieldCore
import Testing

private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/transformer-twin.safetensors").path

/// One case of the fixture: the model, its parameters in store order, the batch and the twin's answers.
private struct TwinCase {
    let name: String
    let config: TransformerConfig
    let store: ParameterStore<Double>
    let tokens: Tensor<Double>
    let targets: Targets<Double>
    let risk: Double
    let gradients: [String: Tensor<Double>]
}

private func twinCases() throws -> [TwinCase] {
    let file = try SafeTensorsFile.read(path: fixture)
    let text = try #require(file.metadata["cases"], "transformer-twin.safetensors has no 'cases' metadata")
    let cases = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: Any]])
    return try cases.keys.sorted().map { name in
        let entry = cases[name]!
        let configData = try JSONSerialization.data(withJSONObject: entry["transformer"]!)
        let config = try JSONDecoder().decode(TransformerConfig.self, from: configData)
        var store: ParameterStore<Double> = MeanFieldTransformer(config: config).initialParameters(seed: 0)
        var gradients: [String: Tensor<Double>] = [:]
        for parameter in store.names {
            store[parameter] = try file.tensor("\(name).\(parameter)", as: Double.self, file: fixture)
            gradients[parameter] = try file.tensor("\(name).grad.\(parameter)", as: Double.self, file: fixture)
        }
        let targets = Targets<Double>.regression(values: try file.tensor("\(name).targets", file: fixture),
                                                 labelRow: entry["label_row"] as! Int)
        let risk: Tensor<Double> = try file.tensor("\(name).risk", file: fixture)
        return TwinCase(name: name, config: config, store: store, tokens: try file.tensor("\(name).tokens", file: fixture),
                        targets: targets, risk: risk.scalars[0], gradients: gradients)
    }
}

/// max |a − b| / max |b|.
private func relativeError(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    let scale = b.scalars.map(abs).max() ?? 0
    let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    return scale == 0 ? difference : difference / scale
}

private func check<Engine: TransformerEngine>(_ engine: inout Engine, _ testCase: TwinCase, label: String) where Engine.Scalar == Double {
    let result = engine.riskAndGradients(testCase.store, tokens: testCase.tokens, targets: testCase.targets)
    let riskError = abs(result.risk - testCase.risk) / abs(testCase.risk)
    #expect(riskError <= 1e-12, "\(testCase.name), \(label): R = \(result.risk), twin \(testCase.risk) (relative \(riskError))")
    for (index, parameter) in testCase.store.names.enumerated() {
        let error = relativeError(result.gradients[index], testCase.gradients[parameter]!)
        #expect(error <= 1e-12, "\(testCase.name), \(label): ∇\(parameter) differs from the twin's by \(error) (relative)")
    }
}

@Test func bothEnginesMatchThePyTorchTwinInFloat64() throws {
    let cases = try twinCases()
    #expect(cases.count == 5, "the fixture has \(cases.count) cases; rerun scripts/python_twin_fixture.py")
    for testCase in cases {
        var reference = AutodiffEngine<Double>(config: testCase.config)
        check(&reference, testCase, label: "autodiff engine")
        var fused = FusedTransformerEngine<Double>(config: testCase.config)
        check(&fused, testCase, label: "fused engine")
    }
}

@Test func theFixtureCoversEveryTransformerOption() throws {
    let configs = try twinCases().map(\.config)
    #expect(Set(configs.map(\.attention)) == Set(AttentionKind.allCases))
    #expect(Set(configs.map(\.scoreMap)) == Set(ScoreMap.allCases))
    #expect(Set(configs.filter { $0.ffnUnits > 0 }.map(\.activation)) == Set(Activation.allCases))
    #expect(Set(configs.map(\.parametrization.headScaling)) == Set(Parametrization.HeadScaling.allCases))
    #expect(configs.contains { $0.preNorm } && configs.contains { !$0.preNorm })
    #expect(configs.contains { $0.residualExponent == 0.5 } && configs.contains { $0.temperature != 1 })
}
