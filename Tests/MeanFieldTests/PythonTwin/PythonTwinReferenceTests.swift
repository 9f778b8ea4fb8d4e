// The llm.c-style reference: Fixtures/pytorch-twin.safetensors holds parameters, a batch, and the
// risk and every gradient that the PyTorch twins (python/meanfield/twin.py, twin_resnet.py) computed
// from them in float64 (written once by scripts/python_twin_fixture.py). Both Swift Transformer
// engines must reproduce them to 1e-12, for every option of the regression Transformer
// (merged/factored heads, the three score maps, five activations, temperature, α = ½, pre-norm,
// head scaling 1/M, 1/√M, 1), and so must MeanFieldResNet (two-layer blocks, cos and ReLU random
// features whose Ω and β both sides draw from the seed).
import Foundation
import MeanField
import MeanFieldCore
import Testing

private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/pytorch-twin.safetensors").path

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
    let cases = try fixtureCases(file).filter { $0.value["transformer"] != nil }
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

/// The fixture's `cases` metadata: {case: {"config", "transformer" or "resnet", …}}.
private func fixtureCases(_ file: SafeTensorsFile) throws -> [String: [String: Any]] {
    let text = try #require(file.metadata["cases"], "pytorch-twin.safetensors has no 'cases' metadata")
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: Any]])
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

@Test func theResNetsMatchThePyTorchTwinInFloat64() throws {
    let file = try SafeTensorsFile.read(path: fixture)
    let cases = try fixtureCases(file).filter { $0.value["resnet"] != nil }
    #expect(Set(cases.keys) == ["resnet_tanh", "rff_cos", "rff_relu"], "rerun scripts/python_twin_fixture.py")
    for name in cases.keys.sorted() {
        let entry = cases[name]!
        let config = try JSONDecoder().decode(ResNetConfig.self, from: JSONSerialization.data(withJSONObject: entry["resnet"]!))
        let network = MeanFieldResNet(config: config, seed: UInt64(entry["seed"] as! Int))
        var store: ParameterStore<Double> = network.initialParameters(seed: 0)
        for parameter in store.names { store[parameter] = try file.tensor("\(name).\(parameter)", file: fixture) }
        let result = network.riskAndGradients(store, inputs: try file.tensor("\(name).inputs", file: fixture),
                                              targets: .regression(values: try file.tensor("\(name).targets", file: fixture)))
        let risk: Tensor<Double> = try file.tensor("\(name).risk", file: fixture)
        let riskError = abs(result.risk - risk.scalars[0]) / abs(risk.scalars[0])
        #expect(riskError <= 1e-12, "\(name): R = \(result.risk), twin \(risk.scalars[0]) (relative \(riskError))")
        for (index, parameter) in store.names.enumerated() {
            let error = relativeError(result.gradients[index], try file.tensor("\(name).grad.\(parameter)", file: fixture))
            #expect(error <= 1e-12, "\(name): ∇\(parameter) differs from the twin's by \(error) (relative)")
        }
    }
}
