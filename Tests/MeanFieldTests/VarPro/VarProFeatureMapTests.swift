// Feature maps of theory §3: values against their formulas and θ-gradients against central
// differences in Double; the batched evaluation against the single-point one.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct VarProFeatureMapTests {
    @Test func reluCircleValues() {
        let map = VarProFeatureMap(kind: .reluCircle)
        #expect(abs(map.value(parameter: [0], input: [2, 5]) - 2) < 1e-15)
        #expect(map.value(parameter: [.pi], input: [2, 5]) == 0)
        #expect(abs(map.value(parameter: [.pi / 2], input: [2, 5]) - 5) < 1e-14)
    }

    @Test func rbfTorusValuesArePeriodic() {
        let map = VarProFeatureMap(kind: .rbfTorus, scale: 0.3)
        let s = 0.3
        // |w − x|_per between (0.05, 0.5) and (0.95, 0.5) is 0.1, not 0.9.
        let expected = 2 / (s * s) * exp(-0.1 / s)
        #expect(abs(map.value(parameter: [0.05, 0.5], input: [0.95, 0.5]) - expected) < 1e-12)
        #expect(abs(map.value(parameter: [0.2, 0.3], input: [0.2, 0.3]) - 2 / (s * s)) < 1e-12)
    }

    @Test(arguments: VarProFeatureKind.allCases)
    func gradientsMatchCentralDifferences(kind: VarProFeatureKind) {
        let map = VarProFeatureMap(kind: kind, scale: 0.25)
        var generator = PhiloxRandom(seed: 3)
        let step = 1e-6
        var checked = 0
        for _ in 0..<40 {
            let parameter = (0..<map.parameterDimension).map { _ in Double.random(in: 0..<(kind == .reluCircle ? 2 * .pi : 1), using: &generator) }
            let input = (0..<2).map { _ in Double.random(in: kind == .reluCircle ? -2...2 : 0...1, using: &generator) }
            // Stay away from the kinks (ReLU at ⟨w, x⟩ = 0, the cone at w = x, the periodic seam).
            if kind == .reluCircle, abs(cos(parameter[0]) * input[0] + sin(parameter[0]) * input[1]) < 1e-3 { continue }
            let gradient = map.gradient(parameter: parameter, input: input)
            for k in 0..<map.parameterDimension {
                var plus = parameter, minus = parameter
                plus[k] += step
                minus[k] -= step
                let numeric = (map.value(parameter: plus, input: input) - map.value(parameter: minus, input: input)) / (2 * step)
                let scale = max(1, abs(numeric))
                #expect(abs(numeric - gradient[k]) <= 1e-6 * scale, "\(kind) θ=\(parameter) x=\(input) k=\(k): \(gradient[k]) vs \(numeric)")
                checked += 1
            }
        }
        #expect(checked >= 30)
    }

    @Test(arguments: VarProFeatureKind.allCases)
    func batchedEvaluationMatchesSinglePoints(kind: VarProFeatureKind) {
        let map = VarProFeatureMap(kind: kind)
        var generator = PhiloxRandom(seed: 9)
        let (m, n) = (5, 4)
        let parameters = VarProTrainer.uniformParameters(for: map, width: m, generator: &generator)
        let inputs = VarProTeacher.inputs(for: kind, samples: n, generator: &generator)
        var features: [Double] = [], gradients: [Double] = []
        map.evaluate(parameters: parameters, width: m, inputs: inputs, samples: n, features: &features, gradients: &gradients)
        let p = map.parameterDimension
        for i in 0..<n {
            for j in 0..<m {
                let parameter = Array(parameters[(j * p)..<(j * p + p)]), input = Array(inputs[(2 * i)..<(2 * i + 2)])
                #expect(features[i * m + j] == map.value(parameter: parameter, input: input))
                let gradient = map.gradient(parameter: parameter, input: input)
                for k in 0..<p { #expect(gradients[k * n * m + i * m + j] == gradient[k]) }
            }
        }
    }
}
