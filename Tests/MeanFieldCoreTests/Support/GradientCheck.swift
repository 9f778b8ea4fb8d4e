/// The gradient check used by every autodiff test: reverse-mode gradients against central finite
/// differences in `Double`.
///
/// For an op y = f(x₁, …, xₙ) with any output shape, the check draws a fixed random weight tensor w
/// of y's shape and compares ∂⟨w, f(x)⟩/∂xᵢ from ``gradients(of:withRespectTo:)`` with the
/// five-point central difference
///     (−L(x + 2h eⱼ) + 8 L(x + h eⱼ) − 8 L(x − h eⱼ) + L(x − 2h eⱼ)) / 12h,   L(x) = ⟨w, f(x)⟩,
/// whose truncation error is O(h⁴). With h = 1e-3 both truncation (~h⁴·f⁽⁵⁾/30) and rounding
/// (~ε·|L|/h) stay far below the 1e-6 tolerance. ⟨w, ·⟩ is summed by hand here, so the numeric side
/// uses only forward values.
import Testing
@testable import MeanFieldCore

/// Per-element relative error |analytic − numeric| / max(|analytic|, |numeric|, floor). The floor
/// (1e-3) keeps near-zero components from dividing by ~0; it still bounds their absolute error by 1e-9.
let gradientErrorFloor = 1e-3

/// The largest relative error over every element of every input.
func maxGradientError(
    _ inputs: [Tensor<Double>], seed: UInt64 = 7, step: Double = 1e-3,
    _ function: ([Variable<Double>]) -> Variable<Double>
) -> (error: Double, detail: String) {
    let variables = inputs.map { Variable($0) }
    let output = function(variables)
    var random = TestRandom(seed: seed)
    let weights = random.tensor(output.shape, -1, 1)
    let loss = (output * Variable.constant(weights)).sum()
    let analytic = gradients(of: loss, withRespectTo: variables)

    func weightedOutput(_ perturbed: [Tensor<Double>]) -> Double {
        let value = function(perturbed.map { Variable($0, requiresGradient: false) }).value
        precondition(value.shape == weights.shape, "op output shape changed under perturbation")
        var total = 0.0
        for (v, w) in zip(value.scalars, weights.scalars) { total += v * w }
        return total
    }

    var worst = (error: 0.0, detail: "no elements")
    for (inputIndex, input) in inputs.enumerated() {
        guard analytic[inputIndex].shape == input.shape else {
            return (.infinity, "gradient of input \(inputIndex) has shape \(analytic[inputIndex].shape), input \(input.shape)")
        }
        for element in 0..<input.count {
            func loss(at offset: Double) -> Double {
                var perturbed = inputs
                perturbed[inputIndex].scalars[element] += offset
                return weightedOutput(perturbed)
            }
            let numeric = (-loss(at: 2 * step) + 8 * loss(at: step) - 8 * loss(at: -step) + loss(at: -2 * step)) / (12 * step)
            let exact = analytic[inputIndex].scalars[element]
            let error = Swift.abs(exact - numeric) / Swift.max(Swift.abs(exact), Swift.abs(numeric), gradientErrorFloor)
            if !(error <= worst.error) {
                worst = (error.isNaN ? .infinity : error,
                         "input \(inputIndex) \(input.shape) element \(element): analytic \(exact), numeric \(numeric)")
            }
        }
    }
    return worst
}

/// Expects the gradient of `function` at `inputs` to match finite differences to 1e-6.
func expectGradientsMatch(
    _ inputs: [Tensor<Double>], _ what: @autoclosure () -> String, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: ([Variable<Double>]) -> Variable<Double>
) {
    let (error, detail) = maxGradientError(inputs, seed: seed, function)
    #expect(error <= 1e-6, "\(what()): max relative error \(error) at \(detail)", sourceLocation: sourceLocation)
}
