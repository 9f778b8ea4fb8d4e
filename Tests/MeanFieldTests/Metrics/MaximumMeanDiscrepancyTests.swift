// Gaussian-kernel MMD² (Sources/MeanField/Metrics/MaximumMeanDiscrepancy.swift) against the kernel
// formula, a direct double loop, the Gaussian closed form and the median heuristic by hand.
import Foundation
import MeanField
import MeanFieldCore
import Testing

@Suite struct MaximumMeanDiscrepancyTests {
    @Test func twoPointsFollowTheKernelFormula() throws {
        // n = m = 1: MMD²_b = k(x,x) + k(y,y) − 2k(x,y) = 2 − 2 exp(−25/(2·4)).
        let a = Tensor<Double>(shape: [1, 2], scalars: [0, 0]), b = Tensor<Double>(shape: [1, 2], scalars: [3, 4])
        let result = try MaximumMeanDiscrepancy(bandwidth: 2).compute(a, b)
        #expect(abs(result.biased - (2 - 2 * exp(-25.0 / 8))) < 1e-14)
        #expect(result.unbiased.isNaN)
    }

    @Test func gaussianSamplesMatchTheClosedForm() throws {
        // x ~ N(μ1, σ1² I_d), y ~ N(μ2, σ2² I_d), Gaussian kernel of bandwidth h:
        // E k(x, y) = (h²/(h²+σ1²+σ2²))^{d/2} exp(−|μ1−μ2|²/(2(h²+σ1²+σ2²))).
        let (d, n, h) = (3, 1_500, 1.5)
        let (sigma1, sigma2) = (1.0, 0.8), shift = [0.7, 0.0, -0.3]
        func expectedKernel(_ s1: Double, _ s2: Double, _ distanceSquared: Double) -> Double {
            let total = h * h + s1 * s1 + s2 * s2
            return pow(h * h / total, Double(d) / 2) * exp(-distanceSquared / (2 * total))
        }
        let population = expectedKernel(sigma1, sigma1, 0) + expectedKernel(sigma2, sigma2, 0)
            - 2 * expectedKernel(sigma1, sigma2, shift.reduce(0) { $0 + $1 * $1 })
        // One U-statistic has sd ≈ 0.0064 at n = 1,500 (numpy, 20 replicates); the mean of 6 has ≈ 0.0026,
        // and the tolerance is ~4 of those (population MMD² ≈ 0.0775).
        var estimates: [Double] = []
        for replicate in 0..<6 as Range<UInt64> {
            let x = metricsTestCloud(n, d, seed: 100 + replicate, sd: sigma1), y = metricsTestCloud(n, d, seed: 200 + replicate, sd: sigma2, shift: shift)
            estimates.append(try MaximumMeanDiscrepancy(bandwidth: h).compute(x, y).unbiased)
        }
        let meanEstimate = estimates.reduce(0, +) / 6
        #expect(abs(meanEstimate - population) < 0.011, "MMD²_u \(meanEstimate) vs \(population)")
        let x = metricsTestCloud(n, d, seed: 31, sd: sigma1), y = metricsTestCloud(n, d, seed: 32, sd: sigma2, shift: shift)
        let result = try MaximumMeanDiscrepancy(bandwidth: h).compute(x, y)
        // V − U = (1/n)(1 − mean off-diagonal k_xx) + (1/m)(1 − mean off-diagonal k_yy) ≈ O(1/n) > 0.
        #expect(result.biased > result.unbiased && result.biased - result.unbiased < 2.0 / Double(n))
        // Same law: the U-statistic is centred at 0.
        let other = metricsTestCloud(n, d, seed: 33, sd: sigma1)
        #expect(abs(try MaximumMeanDiscrepancy(bandwidth: h).squared(x, other, unbiased: true)) < 0.004)
        #expect(try MaximumMeanDiscrepancy(bandwidth: h).squared(x, x) < 1e-12)
    }

    @Test func estimatorsMatchADirectDoubleLoop() throws {
        let x = metricsTestCloud(30, 4, seed: 41), y = metricsTestCloud(45, 4, seed: 42, sd: 2)
        let h = 1.7
        func kernel(_ u: [Double], _ v: [Double]) -> Double { exp(-zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / (2 * h * h)) }
        let xs = (0..<30).map { i in (0..<4).map { x[i, $0] } }, ys = (0..<45).map { j in (0..<4).map { y[j, $0] } }
        var xx = 0.0, yy = 0.0, xy = 0.0, xxOff = 0.0, yyOff = 0.0
        for i in 0..<30 { for k in 0..<30 { let v = kernel(xs[i], xs[k]); xx += v; if i != k { xxOff += v } } }
        for j in 0..<45 { for k in 0..<45 { let v = kernel(ys[j], ys[k]); yy += v; if j != k { yyOff += v } } }
        for i in 0..<30 { for j in 0..<45 { xy += kernel(xs[i], ys[j]) } }
        let result = try MaximumMeanDiscrepancy(bandwidth: h).compute(x, y)
        #expect(abs(result.biased - (xx / 900 + yy / 2025 - 2 * xy / 1350)) < 1e-13)
        #expect(abs(result.unbiased - (xxOff / 870 + yyOff / 1980 - 2 * xy / 1350)) < 1e-13)
    }

    @Test func medianHeuristicByHand() throws {
        // Points 0, 1, 3 on a line: distances 1, 3, 2; median 2.
        let points = Tensor<Double>(shape: [3, 1], scalars: [0, 1, 3])
        #expect(abs(try MaximumMeanDiscrepancy.medianBandwidth(points) - 2) < 1e-14)
        // Pooled: 0, 1 and 3, 7: distances 1, 3, 7, 2, 6, 4 → median (3 + 4)/2.
        let result = try MaximumMeanDiscrepancy().compute(Tensor(shape: [2, 1], scalars: [0, 1]), Tensor(shape: [2, 1], scalars: [3, 7]))
        #expect(abs(result.bandwidth - 3.5) < 1e-14)
        #expect(throws: RunError.self) { try MaximumMeanDiscrepancy(bandwidth: -1).compute(points, points) }
        #expect(throws: RunError.self) { try MaximumMeanDiscrepancy().compute(Tensor(shape: [1, 1], scalars: [2]), Tensor(shape: [1, 1], scalars: [2])) }
    }
}
