// Stable log-sum-exp (theory §2): huge scores against the closed form s_max + log Σ exp(s_i − s_max)
// worked by hand, shift equivariance, and the tilted covariance against central finite differences of g.
import Foundation
import MeanField
import Testing

@Suite struct LogSumExpTests {
    @Test func hugeScoresGiveTheClosedForm() {
        // log(e^1000 + e^1000) = 1000 + log 2; the naive sum overflows to ∞.
        #expect(abs(LogSumExp.of([1000, 1000]) - (1000 + log(2.0))) < 1e-12)
        #expect(LogSumExp.of([1e308, 0]) == 1e308)
        #expect(abs(LogSumExp.of([-1e4, -1e4 - log(3.0)]) - (-1e4 + log(4.0 / 3))) < 1e-9)
        // Weights 1/4, 3/4; the input 1e6 + log 3 itself carries a rounding error of ~1e-10 (ulp of 1e6).
        let weights = LogSumExp.softmax([1e6, 1e6 + log(3.0)])
        #expect(abs(weights[0] - 0.25) < 1e-9 && abs(weights[1] - 0.75) < 1e-9)
    }

    @Test func shiftingAllScoresShiftsTheResult() {
        // Reference: log(e + e² + e³) computed directly (no overflow at this size).
        let direct = log(exp(1.0) + exp(2.0) + exp(3.0))
        for shift in [0.0, 1e3, -1e3, 1e6] {
            #expect(abs(LogSumExp.of([1 + shift, 2 + shift, 3 + shift]) - (direct + shift)) < 1e-9 * max(1, abs(shift)))
        }
    }

    @Test func tiltedCovarianceIsTheHessianOfG() {
        let tokens: [Double] = [0.3, -1.2, 1.1, 0.4, -0.7, 0.9, 2.0, 0.1, -0.5, -0.8]
        let measure = TokenMeasure.empirical(tokens: tokens, count: 5, dimension: 2)
        let a = [0.7, -0.4], h = 1e-3
        let hessian = measure.tiltedCovariance(direction: a)
        for r in 0..<2 {
            for c in 0..<2 {
                func g(_ dr: Double, _ dc: Double) -> Double {
                    var point = a; point[r] += dr; point[c] += dc
                    return measure.logSumExp(direction: point)
                }
                let difference = (g(h, h) - g(h, -h) - g(-h, h) + g(-h, -h)) / (4 * h * h)
                #expect(abs(hessian[r * 2 + c] - difference) < 1e-5)
            }
        }
    }

    @Test func exactGaussianHasTheCumulantClosedForm() {
        // g(a) = a·m + ½ aᵀΣa with m = (1, −2), Σ = [[2, 0.5], [0.5, 1]], a = (0.5, 1): 0.5 − 2 + ½(0.5 + 0.5 + 1) = −0.5.
        let gaussian = TokenMeasure.gaussian(mean: [1, -2], covariance: [2, 0.5, 0.5, 1])
        #expect(abs(gaussian.logSumExp(direction: [0.5, 1]) - (-0.5)) < 1e-14)
    }
}
