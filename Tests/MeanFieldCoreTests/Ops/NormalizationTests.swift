/// Softmax, log-softmax and layer norm (Ops/Normalization.swift). References: NumPy/SciPy
/// (Fixtures/normalization.json: max-shifted softmax, x − logsumexp, (x − μ)/√(σ² + ε)) and closed
/// forms (softmax sums to 1, is shift-invariant; layer-norm rows have mean 0 and variance σ²/(σ² + ε)).
import Testing
@testable import MeanFieldCore

@Suite("Softmax and layer norm")
struct NormalizationTests {
    @Test("softmax and logSoftmax along every axis, layerNorm, match NumPy (large logits included)")
    func valuesMatchNumPy() throws {
        try checkFixtures("normalization", tolerance: FixtureTolerance(doubleRelative: 1e-13, doubleAbsolute: 1e-14))
    }

    @Test("softmax sums to 1 along its axis and ignores a constant shift", arguments: [0, 1, 2, -1])
    func softmaxInvariants(_ axis: Int) {
        var random = TestRandom(seed: 12)
        let x = random.tensor([3, 4, 5], -5, 5)
        let y = x.softmax(axis: axis)
        let totals = y.sum(alongAxes: [axis])
        #expect(totals.scalars.allSatisfy { Swift.abs($0 - 1) <= 1e-15 * 8 })
        expectClose((x + 123.5).softmax(axis: axis), y, relative: 1e-12, absolute: 0, "shift invariance axis \(axis)")
        expectClose(x.logSoftmax(axis: axis).exp(), y, relative: 1e-14, absolute: 0, "exp(logSoftmax) axis \(axis)")
    }

    @Test("Masked entries (−∞) get probability 0 and log-probability −∞; the rest renormalise")
    func maskedEntries() {
        let x = Tensor<Double>(shape: [2, 3], scalars: [0, -.infinity, 1, -.infinity, 2, -.infinity])
        let e = Double.exp(1)
        expectClose(x.softmax(axis: 1), Tensor(shape: [2, 3], scalars: [1 / (1 + e), 0, e / (1 + e), 0, 1, 0]),
                    relative: 1e-15, absolute: 0, "masked softmax")
        let logarithm = x.logSoftmax(axis: 1)
        #expect(logarithm[0, 1] == -.infinity && logarithm[1, 0] == -.infinity && logarithm[1, 1] == 0)
        #expect(Swift.abs(logarithm[0, 0] + Double.log(1 + e)) <= 1e-15)
        let masked = Variable(x)
        let gradient = gradients(of: (masked.softmax(axis: 1) * Variable.constant(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))).sum(),
                                 withRespectTo: [masked])[0]
        #expect(gradient.scalars.allSatisfy(\.isFinite) && gradient[0, 1] == 0 && gradient[1, 1] == 0)
    }

    @Test("Layer-norm rows have mean 0 and variance σ²/(σ² + ε)")
    func layerNormMoments() {
        var random = TestRandom(seed: 13)
        let x = random.tensor([4, 16], -3, 3), epsilon = 0.01
        let y = x.layerNormalized(epsilon: epsilon)
        for row in 0..<4 {
            let input = Array(x.scalars[(row * 16)..<(row * 16 + 16)]), output = Array(y.scalars[(row * 16)..<(row * 16 + 16)])
            let inputMean = input.reduce(0, +) / 16
            let inputVariance = input.map { ($0 - inputMean) * ($0 - inputMean) }.reduce(0, +) / 16
            let outputMean = output.reduce(0, +) / 16
            let outputVariance = output.map { $0 * $0 }.reduce(0, +) / 16
            #expect(Swift.abs(outputMean) <= 1e-15 * 16)
            #expect(Swift.abs(outputVariance - inputVariance / (inputVariance + epsilon)) <= 1e-14)
        }
    }

    @Test("An axis out of range stops, naming the op, the axis and the shape")
    func axisOutOfRangeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).softmax(axis: 2)
        }
        let message = standardErrorText(result)
        #expect(message.contains("softmax") && message.contains("axis 2") && message.contains("[2, 3]"), "stderr: \(message)")

        let logarithm = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor<Double>.zeros([2, 3])).logSoftmax(axis: -3)
        }
        let logarithmMessage = standardErrorText(logarithm)
        #expect(logarithmMessage.contains("logSoftmax") && logarithmMessage.contains("-3") && logarithmMessage.contains("[2, 3]"),
                "stderr: \(logarithmMessage)")
    }

    @Test("layerNormalized of an empty last axis or a rank-0 tensor stops, naming the shape")
    func layerNormBadShapeStops() async {
        let empty = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 0]).layerNormalized()
        }
        let message = standardErrorText(empty)
        #expect(message.contains("layerNorm") && message.contains("[2, 0]"), "stderr: \(message)")

        let scalar = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor<Double>(1)).layerNormalized()
        }
        let scalarMessage = standardErrorText(scalar)
        #expect(scalarMessage.contains("layerNorm") && scalarMessage.contains("[]"), "stderr: \(scalarMessage)")
    }
}
